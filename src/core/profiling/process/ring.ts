/** Fixed-capacity buffer that drops the oldest item when full. */
export class Ring<T> {
  private readonly items: T[] = [];
  private next = 0;

  constructor(readonly capacity: number) {}

  get size(): number {
    return this.items.length;
  }

  push(item: T): void {
    if (this.items.length < this.capacity) this.items.push(item);
    else this.items[this.next] = item;
    this.next = (this.next + 1) % this.capacity;
  }

  newestFirst(): T[] {
    const ordered: T[] = [];
    for (let i = 1; i <= this.items.length; i++) {
      ordered.push(this.items[(this.next - i + this.capacity) % this.capacity]);
    }
    return ordered;
  }
}
