// A D1Database (and its sessions and statements) whose every round trip to D1 goes through
// `around`: the benchmark delays each one (worker-rtt.ts), a test counts them. Benchmark and test
// code only; nothing in src/ imports it.
//
// One round trip = one call that reaches D1: a statement's first/all/run/raw, a batch (however
// many statements it holds), an exec. prepare and bind stay local. Statements handed to batch
// are unwrapped, since D1's batch accepts only its own statement objects.

export type RoundTrip = "first" | "all" | "run" | "raw" | "batch" | "exec";
/** Runs one round trip: call `go` (at most once) and return its result. */
export type Around = <T>(kind: RoundTrip, go: () => Promise<T>) => Promise<T>;

const realOf = new WeakMap<object, D1PreparedStatement>();

function statement(real: D1PreparedStatement, around: Around): D1PreparedStatement {
	const wrapped = {
		bind: (...values: unknown[]) => statement(real.bind(...values), around),
		first: (column?: string) => around("first", () => (column === undefined ? real.first() : real.first(column))),
		all: () => around("all", () => real.all()),
		run: () => around("run", () => real.run()),
		raw: (options?: { columnNames?: boolean }) => around("raw", () => real.raw(options as { columnNames: true })),
	};
	realOf.set(wrapped, real);
	return wrapped as unknown as D1PreparedStatement;
}

const unwrap = (statements: D1PreparedStatement[]) => statements.map((s) => realOf.get(s) ?? s);

function session(real: D1DatabaseSession, around: Around): D1DatabaseSession {
	return {
		prepare: (sql: string) => statement(real.prepare(sql), around),
		batch: <T>(statements: D1PreparedStatement[]) => around("batch", () => real.batch<T>(unwrap(statements))),
		getBookmark: () => real.getBookmark(),
	} as unknown as D1DatabaseSession;
}

/** `db` with every round trip to D1 made through `around`. */
export function interposeD1(db: D1Database, around: Around): D1Database {
	return {
		prepare: (sql: string) => statement(db.prepare(sql), around),
		batch: <T>(statements: D1PreparedStatement[]) => around("batch", () => db.batch<T>(unwrap(statements))),
		exec: (sql: string) => around("exec", () => db.exec(sql)),
		withSession: (constraintOrBookmark?: string) => session(db.withSession(constraintOrBookmark), around),
		dump: () => db.dump(),
	} as unknown as D1Database;
}

/** `around` that waits `ms` before each round trip: a database `ms` away (0: no delay at all). */
export function fixedDelay(ms: number): Around {
	if (ms <= 0) return (_kind, go) => go();
	return async (_kind, go) => {
		await new Promise((resolve) => setTimeout(resolve, ms));
		return go();
	};
}
