import { useCallback, useEffect, useState } from 'preact/hooks';
import { ApiError, type Api } from '../lib/api.js';
import { Employee as EmployeeSchema, EmployeeList, PermissionList, type Chat, type Employee, type Permission } from '../lib/schemas.js';
import { Field, messageOf } from './ui.js';

/** Admin only: create employees (stations), disable them, and choose the chats each one may see. */
export function Employees({ api, chats }: { api: Api; chats: Chat[] }) {
  const [employees, setEmployees] = useState<Employee[] | null>(null);
  const [permissions, setPermissions] = useState<Permission[]>([]);
  const [error, setError] = useState<string | null>(null);

  const load = useCallback(async () => {
    try {
      const [list, perms] = await Promise.all([api.json('/api/auth/employees', EmployeeList), api.json('/api/permissions', PermissionList)]);
      setEmployees(list);
      setPermissions(perms);
      setError(null);
    } catch (err) {
      setError(messageOf(err));
    }
  }, [api]);

  useEffect(() => {
    void load();
  }, [load]);

  const act = async (action: () => Promise<void>): Promise<void> => {
    setError(null);
    try {
      await action();
    } catch (err) {
      setError(messageOf(err));
    }
    await load();
  };

  const disable = (employee: Employee) =>
    act(async () => {
      if (!confirm(`Disable ${employee.name}? They are signed out at once and lose every chat.`)) return;
      await api.empty(`/api/auth/employees/${encodeURIComponent(employee.id)}`, { method: 'DELETE' });
    });

  const setAccess = (employeeId: string, chatId: string, grant: boolean) =>
    act(() => api.empty(`/api/permissions/${grant ? 'assign' : 'revoke'}`, { method: 'POST', body: { employeeId, chatId } }));

  return (
    <main class="page">
      <h1>Employees</h1>
      <CreateEmployee api={api} onCreated={() => void load()} />
      {error !== null && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      {employees === null && error === null && <p class="muted">Loading…</p>}
      {employees !== null && employees.length === 0 && <p class="muted">No employees yet.</p>}
      <ul class="employees" data-testid="employee-list">
        {employees?.map((employee) => (
          <EmployeeRow
            key={employee.id}
            employee={employee}
            chats={chats}
            assigned={permissions.filter((p) => p.employeeId === employee.id).map((p) => p.chatId)}
            onDisable={() => void disable(employee)}
            onAccess={(chatId, grant) => void setAccess(employee.id, chatId, grant)}
          />
        ))}
      </ul>
    </main>
  );
}

function CreateEmployee({ api, onCreated }: { api: Api; onCreated: () => void }) {
  const [name, setName] = useState('');
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (event: Event): Promise<void> => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    setDone(null);
    try {
      const created = await api.json('/api/auth/create-station', EmployeeSchema, { method: 'POST', body: { name, email, password } });
      setDone(`${created.name} can now sign in with ${created.email}.`);
      setName('');
      setEmail('');
      setPassword('');
      onCreated();
    } catch (err) {
      setError(err instanceof ApiError && err.status === 409 ? 'This email is already in use.' : messageOf(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <form class="card" onSubmit={(e) => void submit(e)} aria-labelledby="new-employee-title">
      <h2 id="new-employee-title">Add an employee</h2>
      <Field label="Name" name="employee-name" value={name} onInput={setName} required />
      <Field label="Email" name="employee-email" type="email" value={email} onInput={setEmail} autocomplete="off" required />
      <Field
        label="Password"
        name="employee-password"
        type="password"
        value={password}
        onInput={setPassword}
        autocomplete="new-password"
        minLength={8}
        hint="At least 8 characters; share it with the employee."
        required
      />
      {error !== null && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      {done !== null && <p role="status">{done}</p>}
      <button type="submit" class="primary" disabled={busy}>
        Add employee
      </button>
    </form>
  );
}

interface RowProps {
  employee: Employee;
  chats: Chat[];
  assigned: string[];
  onDisable: () => void;
  onAccess: (chatId: string, grant: boolean) => void;
}

function EmployeeRow({ employee, chats, assigned, onDisable, onAccess }: RowProps) {
  const [choice, setChoice] = useState('');
  const nameOf = (chatId: string): string => chats.find((c) => c.id === chatId)?.name ?? chatId;
  const assignable = chats.filter((c) => !assigned.includes(c.id));
  const selectId = `assign-${employee.id}`;
  return (
    <li class="card employee" data-employee-email={employee.email}>
      <h3>
        {employee.name} <span class="muted">{employee.email}</span> {employee.disabled && <span class="badge">disabled</span>}
      </h3>
      {!employee.disabled && (
        <>
          <p class="small">{assigned.length === 0 ? 'No chats assigned.' : 'Chats:'}</p>
          <ul class="assigned">
            {assigned.map((chatId) => (
              <li key={chatId}>
                {nameOf(chatId)}{' '}
                <button type="button" class="link" onClick={() => onAccess(chatId, false)} aria-label={`Revoke ${nameOf(chatId)} from ${employee.name}`}>
                  Revoke
                </button>
              </li>
            ))}
          </ul>
          {assignable.length > 0 && (
            <form
              class="inline"
              onSubmit={(e) => {
                e.preventDefault();
                if (choice !== '') onAccess(choice, true);
                setChoice('');
              }}
            >
              <label for={selectId}>Assign a chat</label>
              <select id={selectId} value={choice} onChange={(e) => setChoice(e.currentTarget.value)}>
                <option value="">Choose…</option>
                {assignable.map((c) => (
                  <option key={c.id} value={c.id}>
                    {c.name}
                  </option>
                ))}
              </select>
              <button type="submit" disabled={choice === ''}>
                Assign
              </button>
            </form>
          )}
          <button type="button" class="danger" onClick={onDisable}>
            Disable {employee.name}
          </button>
        </>
      )}
    </li>
  );
}
