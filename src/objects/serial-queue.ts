/**
 * Runs async tasks one at a time, in arrival order.
 *
 * A Durable Object's input gate holds other calls back only while the object awaits its own
 * storage; while it awaits D1, KV or fetch, the next call runs. A task that reads state and
 * then writes to D1 must therefore be queued explicitly to be serialized.
 */
export class SerialQueue {
	private tail: Promise<unknown> = Promise.resolve();

	run<T>(task: () => Promise<T>): Promise<T> {
		const result = this.tail.then(task, task);
		this.tail = result.catch(() => undefined);
		return result;
	}
}
