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
