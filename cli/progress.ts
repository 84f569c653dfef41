/** Where progress goes: a redrawn bar on a terminal, plain lines otherwise (logs, CI, pipes). */
export interface ProgressSink {
	isTTY?: boolean;
	columns?: number;
	write(text: string): unknown;
}

const BAR_WIDTH = 30;
// Redraws more often than this only cost terminal output.
const REDRAW_INTERVAL_MS = 100;

export function formatRate(records: number, elapsedMs: number): string {
	const perSecond = elapsedMs > 0 ? (records * 1000) / elapsedMs : 0;
	return `${Math.round(perSecond).toLocaleString("en-US")} records/s`;
}

/** `[#########---------------------]  30% 7,500/25,000 records  1,234 records/s` */
export function renderBar(done: number, total: number, elapsedMs: number): string {
	const fraction = total === 0 ? 1 : Math.min(1, done / total);
	const filled = Math.round(fraction * BAR_WIDTH);
	const percent = `${Math.floor(fraction * 100)}%`.padStart(4);
	return `[${"#".repeat(filled)}${"-".repeat(BAR_WIDTH - filled)}] ${percent} ${done.toLocaleString("en-US")}/${total.toLocaleString("en-US")} records  ${formatRate(done, elapsedMs)}`;
}

export class Progress {
	private readonly started = Date.now();
	private done = 0;
	private lastDraw = 0;
	private drawn = false;

	constructor(
		private readonly sink: ProgressSink,
		private readonly total: number,
		private readonly batchCount: number,
	) {}

	/** Draws the empty bar on a terminal, so a slow first request shows something. */
	start(): void {
		if (this.sink.isTTY) this.draw(renderBar(0, this.total, 0));
	}

	/** A batch was accepted. */
	advance(records: number, batchIndex: number): void {
		this.done += records;
		const elapsed = Date.now() - this.started;
		if (this.sink.isTTY) {
			if (this.done < this.total && Date.now() - this.lastDraw < REDRAW_INTERVAL_MS) return;
			this.draw(renderBar(this.done, this.total, elapsed));
		} else {
			this.sink.write(
				`batch ${batchIndex + 1}/${this.batchCount}: ${this.done}/${this.total} records sent (${formatRate(this.done, elapsed)})\n`,
			);
		}
	}

	/** A message that must not be overwritten by the bar (a retry, a warning). */
	note(message: string): void {
		if (this.sink.isTTY && this.drawn) this.sink.write("\r\x1b[2K");
		this.sink.write(`${message}\n`);
		if (this.sink.isTTY && this.drawn) this.draw(renderBar(this.done, this.total, Date.now() - this.started));
	}

	/** Ends the bar's line so what follows starts on a fresh one. */
	finish(): void {
		if (this.sink.isTTY && this.drawn) this.sink.write("\n");
		this.drawn = false;
	}

	elapsedMs(): number {
		return Date.now() - this.started;
	}

	private draw(line: string): void {
		const width = this.sink.columns ?? 120;
		this.sink.write(`\r\x1b[2K${line.slice(0, Math.max(20, width - 1))}`);
		this.lastDraw = Date.now();
		this.drawn = true;
	}
}
