import { Type } from '@sinclair/typebox';
import { User, Uuid } from '../../../domain/types.js';

export const Employee = Type.Composite([User], { title: 'Employee' });

export const EmployeeList = Type.Array(Employee);

export const EmployeeParams = Type.Object({ id: Uuid });
