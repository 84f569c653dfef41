/**
 * The 1-based line on which each record of a JSON document starts, for error messages.
 * The records are the elements of the top-level array, or of the top-level object's "records" array.
 * Run only on text that JSON.parse accepted, so the scan can assume valid JSON.
 */
export function recordStartLines(text: string): number[] {
	const lines: number[] = [];
	let line = 1;
	// One entry per open container: whether it is the records array, and whether a value is expected next.
	const stack: { isRecords: boolean; isObject: boolean; expectValue: boolean }[] = [];
	let topLevelKey: string | null = null;
	let lastString = "";

	for (let i = 0; i < text.length; i++) {
		const ch = text[i];
		if (ch === "\n") {
			line++;
			continue;
		}
		if (ch === " " || ch === "\t" || ch === "\r") continue;

		const top = stack[stack.length - 1];
		// A value starting directly inside the records array is a record.
		if (top?.isRecords && top.expectValue && ch !== "]") {
			lines.push(line);
			top.expectValue = false;
		}
		if (ch === '"') {
			const end = endOfString(text, i);
			lastString = JSON.parse(text.slice(i, end + 1)) as string;
			i = end;
			continue;
		}
		if (ch === ":") {
			if (stack.length === 1 && stack[0].isObject) topLevelKey = lastString;
			continue;
		}
		if (ch === "[" || ch === "{") {
			const isRecords = ch === "[" && (stack.length === 0 || (stack.length === 1 && stack[0].isObject && topLevelKey === "records"));
			stack.push({ isRecords, isObject: ch === "{", expectValue: true });
			continue;
		}
		if (ch === "]" || ch === "}") {
			stack.pop();
			continue;
		}
		if (ch === ",") {
			if (top) top.expectValue = true;
		}
	}
	return lines;
}

function endOfString(text: string, start: number): number {
	for (let i = start + 1; i < text.length; i++) {
		if (text[i] === "\\") i++;
		else if (text[i] === '"') return i;
	}
	return text.length - 1;
}

/** The line of a JSON.parse error, from the position or line V8 puts in its message. */
export function jsonErrorLine(text: string, err: Error): number | undefined {
	const lineMatch = /\(line (\d+) column \d+\)/.exec(err.message);
	if (lineMatch) return Number(lineMatch[1]);
	const position = /at position (\d+)/.exec(err.message);
	if (!position) return undefined;
	let line = 1;
	const end = Math.min(Number(position[1]), text.length);
	for (let i = 0; i < end; i++) if (text[i] === "\n") line++;
	return line;
}
