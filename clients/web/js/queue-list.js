// A service's waiting list (`service:{site}:{service}`), as a pure function of its messages:
// the snapshot is the list in call order; a `changed` event removes ids and inserts tickets
// after a given id (null: at the head), in the order given.

export function applyQueue(list, msg) {
  if (msg.op === 'snapshot') return [...(msg.data?.tickets ?? [])];
  if (msg.op !== 'event' || msg.type !== 'changed') return list;
  const removed = new Set(msg.data?.removed ?? []);
  const out = list.filter((t) => !removed.has(t.id));
  for (const { after, ticket } of msg.data?.inserted ?? []) {
    const existing = out.findIndex((t) => t.id === ticket.id);
    if (existing >= 0) out.splice(existing, 1);
    const at = after == null ? 0 : out.findIndex((t) => t.id === after) + 1;
    // An unknown `after` (should not happen) puts the ticket at the end rather than losing it.
    out.splice(at > 0 || after == null ? at : out.length, 0, ticket);
  }
  return out;
}
