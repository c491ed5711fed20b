// Prints the configuration table for README.md from the config schema.
import { configTable } from '../src/config.js';

console.log(configTable());
