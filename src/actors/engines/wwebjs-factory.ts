import { AppError, ErrorCodes } from '../../domain/errors.js';
import type { CreateEngineInput } from './create-engine.js';
import type { Engine } from './engine.js';

/** Builds a WwebjsEngine from the actor's options. */
export async function createWwebjsEngine(_input: CreateEngineInput): Promise<Engine> {
  throw new AppError(ErrorCodes.ENGINE, 'the wwebjs engine is not wired into the session actor yet; run with WA_ENGINE=sandbox');
}
