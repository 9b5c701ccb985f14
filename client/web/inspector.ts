/// <reference lib="dom" />
// The event inspector: every client and server event of the session, newest last, filterable by type, each
// expandable to its JSON. Like the OpenAI realtime console's log, for seeing what a client really exchanged.

/** Rows kept in the page; older ones are dropped (a long session sends tens of thousands of events). */
const MAX_ROWS = 500;
/** Audio appends are frequent and large: shown as one row each, their audio elided. */
const ELIDED_FIELDS = new Set(['audio', 'delta_audio']);

export type Direction = 'client' | 'server';

export class EventInspector {
  private readonly rows: HTMLLIElement[] = [];
  private filterText = '';

  constructor(
    private readonly list: HTMLOListElement,
    private readonly counter: HTMLElement,
    filterInput: HTMLInputElement,
  ) {
    filterInput.addEventListener('input', () => {
      this.filterText = filterInput.value.trim().toLowerCase();
      for (const row of this.rows) this.applyFilter(row);
    });
  }

  record(direction: Direction, event: { type: string }): void {
    const row = document.createElement('li');
    row.dataset.direction = direction;
    row.dataset.type = event.type;
    const head = document.createElement('button');
    head.type = 'button';
    head.className = 'event-head';
    head.setAttribute('aria-expanded', 'false');
    head.textContent = `${direction === 'client' ? '\u2191' : '\u2193'} ${new Date().toISOString().slice(11, 23)} ${event.type}`;
    const body = document.createElement('pre');
    body.hidden = true;
    head.addEventListener('click', () => {
      if (body.textContent === '')
        body.textContent = JSON.stringify(
          event,
          (key, value) => (ELIDED_FIELDS.has(key) && typeof value === 'string' ? `<${value.length} chars>` : value),
          2,
        );
      body.hidden = !body.hidden;
      head.setAttribute('aria-expanded', String(!body.hidden));
    });
    row.append(head, body);
    this.applyFilter(row);
    this.rows.push(row);
    this.list.append(row);
    while (this.rows.length > MAX_ROWS) this.rows.shift()!.remove();
    this.counter.textContent = String(this.rows.length);
  }

  clear(): void {
    for (const row of this.rows) row.remove();
    this.rows.length = 0;
    this.counter.textContent = '0';
  }

  private applyFilter(row: HTMLLIElement): void {
    row.hidden =
      this.filterText !== '' &&
      !(row.dataset.type ?? '').includes(this.filterText) &&
      row.dataset.direction !== this.filterText;
  }
}
