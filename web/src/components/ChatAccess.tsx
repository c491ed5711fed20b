import { useEffect, useState } from 'preact/hooks';
import type { Api } from '../lib/api.js';
import { EmployeeList, PermissionList, type Employee } from '../lib/schemas.js';
import { messageOf } from './ui.js';

/** Admin only: which employees may see and answer this chat. Each box assigns or revokes at once. */
export function ChatAccess({ api, chatId }: { api: Api; chatId: string }) {
  const [employees, setEmployees] = useState<Employee[] | null>(null);
  const [allowed, setAllowed] = useState<Set<string>>(new Set());
  const [pending, setPending] = useState<Set<string>>(new Set());
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    let live = true;
    Promise.all([api.json('/api/auth/employees', EmployeeList), api.json('/api/permissions', PermissionList)]).then(
      ([list, permissions]) => {
        if (!live) return;
        setEmployees(list.filter((e) => !e.disabled));
        setAllowed(new Set(permissions.filter((p) => p.chatId === chatId).map((p) => p.employeeId)));
      },
      (err: unknown) => live && setError(messageOf(err)),
    );
    return () => {
      live = false;
    };
  }, [api, chatId]);

  /** Optimistic: the box shows the new state at once, and goes back if the server refuses. */
  const toggle = async (employeeId: string, grant: boolean): Promise<void> => {
    const set = (on: boolean): void =>
      setAllowed((s) => {
        const next = new Set(s);
        if (on) next.add(employeeId);
        else next.delete(employeeId);
        return next;
      });
    set(grant);
    setPending((s) => new Set(s).add(employeeId));
    setError(null);
    try {
      await api.empty(`/api/permissions/${grant ? 'assign' : 'revoke'}`, { method: 'POST', body: { employeeId, chatId } });
    } catch (err) {
      set(!grant);
      setError(messageOf(err));
    } finally {
      setPending((s) => {
        const next = new Set(s);
        next.delete(employeeId);
        return next;
      });
    }
  };

  return (
    <fieldset id="chat-access" class="access" data-testid="chat-access">
      <legend>Employees who may see and answer this chat</legend>
      {error !== null && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      {employees === null && error === null && <p class="muted small">Loading…</p>}
      {employees !== null && employees.length === 0 && <p class="muted small">No employees yet: create them under Employees.</p>}
      {employees?.map((employee) => (
        <label key={employee.id} class="check">
          <input
            type="checkbox"
            checked={allowed.has(employee.id)}
            disabled={pending.has(employee.id)}
            onChange={(e) => void toggle(employee.id, e.currentTarget.checked)}
          />{' '}
          {employee.name} <span class="muted">({employee.email})</span>
        </label>
      ))}
    </fieldset>
  );
}
