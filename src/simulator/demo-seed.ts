/** The business account a demo tenant links, and the contacts that wrote to it before. */
export const DEMO_BUSINESS_NUMBER = '15550000001';

const contacts = [
  { number: '15550000002', name: 'Maria Lopez', lines: ['Hi! Is the shop open on Sunday?', 'Thanks 🙏'] },
  { number: '15550000003', name: 'Jon Berg', lines: ['My order #1042 has not arrived yet.'] },
  { number: '15550000004', name: 'Aiko Tanaka', lines: ['Could you send me the invoice as PDF?'] },
];

async function post(url: string, body: unknown): Promise<void> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const text = await res.text();
  if (!res.ok) throw new Error(`simulator ${url} answered ${res.status}: ${text}`);
}

/**
 * Creates the demo phones through the simulator's phone API (idempotent) and has each contact write to
 * the business account, so a freshly linked session shows chats with history at once.
 */
export async function seedDemoPhones(simUrl: string): Promise<void> {
  await post(`${simUrl}/phones`, { number: DEMO_BUSINESS_NUMBER, name: 'Demo Business' });
  for (const c of contacts) {
    await post(`${simUrl}/phones`, { number: c.number, name: c.name });
    for (const body of c.lines) await post(`${simUrl}/phones/${c.number}/messages`, { to: DEMO_BUSINESS_NUMBER, body });
  }
}
