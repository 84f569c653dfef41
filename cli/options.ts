import { readFile } from "node:fs/promises";
import type { ParseArgsConfig } from "node:util";
import { SERVICE_MAX_BODY_BYTES, SERVICE_MAX_RECORDS } from "./batches";
import { InputError } from "./csv";
import { DEFAULT_RETRY_POLICY, type RetryPolicy } from "./http";
// What every command shares: its input and output, and reading its flags. A leaf of the CLI,
// so the commands and main.ts, which dispatches to them, all import it and not each other.

/** Thrown for a bad command line: the message and a pointer to --help, exit code 2. */
export class UsageError extends Error {}

export interface Io {
	out: (text: string) => void;
	err: (text: string) => void;
	/** Where the progress bar goes (stderr). */
	progress: { isTTY?: boolean; columns?: number; write(text: string): unknown };
	env: Record<string, string | undefined>;
}

/** A required secret from its flag or environment variable. */
export function secret(flag: string | undefined, envName: string, flagName: string, io: Io): string {
	const value = flag ?? io.env[envName];
	if (!value) throw new UsageError(`no ${flagName.replace(/^--/, "").replace("-", " ")}: pass ${flagName} or set ${envName}`);
	return value;
}

/** A positive integer flag, at most max. */
export function intFlag(value: string | undefined, name: string, fallback: number, max = Number.MAX_SAFE_INTEGER): number {
	if (value === undefined) return fallback;
	const n = Number(value);
	if (!Number.isInteger(n) || n < 0 || n > max) throw new UsageError(`${name} must be an integer from 0 to ${max}`);
	return n;
}

/** The flags of every command that sends a file in requests: their size, retries, errors, dry run. */
export const SENDING_OPTIONS = {
	"batch-size": { type: "string" },
	"max-bytes": { type: "string" },
	"run-id": { type: "string" },
	"max-retries": { type: "string" },
	"max-errors": { type: "string" },
	"dry-run": { type: "boolean" },
} satisfies ParseArgsConfig["options"];

/** What parseArgs gives for a command's options (and the common --token). */
export type OptionValues<O extends NonNullable<ParseArgsConfig["options"]>> = {
	[K in keyof O]?: O[K] extends { multiple: true } ? string[] : O[K] extends { type: "boolean" } ? boolean : string;
} & { token?: string };

/** The sending flags, checked: request size limits (within the service's), errors to list, retries. */
export function sendingSettings(values: OptionValues<typeof SENDING_OPTIONS>, { minBytes = 100 } = {}) {
	const maxRecords = intFlag(values["batch-size"], "--batch-size", SERVICE_MAX_RECORDS, SERVICE_MAX_RECORDS);
	const maxBytes = intFlag(values["max-bytes"], "--max-bytes", SERVICE_MAX_BODY_BYTES, SERVICE_MAX_BODY_BYTES);
	if (maxRecords < 1 || maxBytes < minBytes) throw new UsageError(`--batch-size must be at least 1 and --max-bytes at least ${minBytes}`);
	const maxErrors = intFlag(values["max-errors"], "--max-errors", 20);
	const policy: RetryPolicy = {
		...DEFAULT_RETRY_POLICY,
		maxRetries: intFlag(values["max-retries"], "--max-retries", DEFAULT_RETRY_POLICY.maxRetries, 100),
	};
	return { maxRecords, maxBytes, maxErrors, policy };
}

/** A command's input file as text, or undefined once the reason it cannot be read is reported. */
/**
 * Reads an input file and parses it with `parse`. A file that cannot be read, or an InputError
 * from `parse`, is reported on stderr as file:line: message; then the result is undefined.
 */
export async function readInputFile<T>(file: string, io: Io, parse: (text: string) => T): Promise<T | undefined> {
	let text: string;
	try {
		text = await readFile(file, "utf8");
	} catch (err) {
		io.err(`${file}: cannot read: ${(err as Error).message}\n`);
		return undefined;
	}
	try {
		return parse(text);
	} catch (err) {
		if (!(err instanceof InputError)) throw err;
		io.err(`${file}${err.line ? `:${err.line}` : ""}: ${err.message}\n`);
		return undefined;
	}
}
