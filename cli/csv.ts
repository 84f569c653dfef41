/** One CSV row with the 1-based file line it starts on (a quoted field may span lines). */
export interface CsvRow {
	line: number;
	fields: string[];
}

/** A problem with an input file as a whole (not with one record's content), with its line when known. */
export class InputError extends Error {
	constructor(
		message: string,
		readonly line?: number,
	) {
		super(message);
	}
}

export class CsvSyntaxError extends Error {
	constructor(
		readonly line: number,
		message: string,
	) {
		super(message);
	}
}

/**
 * Parses RFC 4180 CSV: comma-separated, fields optionally in double quotes, "" for a quote inside
 * quotes, CRLF or LF line ends. Blank lines are skipped; a leading byte order mark is ignored.
 */
export function parseCsv(text: string): CsvRow[] {
	const rows: CsvRow[] = [];
	let line = 1;
	let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
	const n = text.length;
	while (i < n) {
		const rowLine = line;
		const fields: string[] = [];
		let atRowEnd = false;
		while (!atRowEnd) {
			let field = "";
			if (text[i] === '"') {
				const quoteLine = line;
				i++;
				for (;;) {
					if (i >= n) throw new CsvSyntaxError(quoteLine, "unterminated quoted field");
					const ch = text[i];
					if (ch === '"') {
						if (text[i + 1] === '"') {
							field += '"';
							i += 2;
							continue;
						}
						i++;
						break;
					}
					if (ch === "\n") line++;
					field += ch;
					i++;
				}
				if (i < n && text[i] !== "," && text[i] !== "\n" && text[i] !== "\r") {
					throw new CsvSyntaxError(line, "unexpected character after a closing quote");
				}
			} else {
				const start = i;
				while (i < n && text[i] !== "," && text[i] !== "\n" && text[i] !== "\r") {
					if (text[i] === '"')
						throw new CsvSyntaxError(line, "a quote inside an unquoted field (quote the whole field and double the quote)");
					i++;
				}
				field = text.slice(start, i);
			}
			fields.push(field);
			if (i >= n) atRowEnd = true;
			else if (text[i] === ",") i++;
			else {
				if (text[i] === "\r") i++;
				if (text[i] === "\n") i++;
				line++;
				atRowEnd = true;
			}
		}
		const blank = fields.length === 1 && fields[0] === "";
		if (!blank) rows.push({ line: rowLine, fields });
	}
	return rows;
}

/** A CSV file's header (trimmed column names, and its line) and the rows below it. */
export function readCsvTable(text: string): { columns: string[]; headerLine: number; body: CsvRow[] } {
	let rows: ReturnType<typeof parseCsv>;
	try {
		rows = parseCsv(text);
	} catch (err) {
		if (err instanceof CsvSyntaxError) throw new InputError(`invalid CSV: ${err.message}`, err.line);
		throw err;
	}
	if (rows.length === 0) throw new InputError("the CSV file is empty: it needs a header line");
	const [header, ...body] = rows;
	return { columns: header.fields.map((name) => name.trim()), headerLine: header.line, body };
}
