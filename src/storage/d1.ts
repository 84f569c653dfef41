// What the read paths need of D1: a database or one of its sessions (D1's Sessions API, which
// lets read replicas answer; see src/http/read-session.ts).
export type D1Reader = Pick<D1Database, "prepare" | "batch">;
