// Cost dimension names: the built-in ones, tag:<key> and custom:<name>. Which stored dimension a
// name reads, and the 400 for a name that reads none. The SQL twin of sourceDimension is
// sourceOfName in storage/cost-reads.ts.
import { ApiError, type ErrorDetail } from "../lib/api-error";

/** A custom dimension's name (used as `custom:<name>`). */
export const CUSTOM_DIMENSION_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$/;

/** The built-in cost dimensions: a CBF column each (cbf-rows.ts), and Connection, the connection id. */
export const BUILTIN_COST_DIMENSIONS = ["Service", "Account", "Region", "UsageFamily", "LineItemType", "Resource", "Connection"] as const;
const TAG_DIMENSION = /^[tT]ag:([^\u0000-\u001f\u007f-\u009f]{1,128})$/u;
/** allocation:<stream>: an allocation stream's elements, each cost row split among them (docs/unit-cost.md#allocated-cost). */
const ALLOCATION_DIMENSION = /^allocation:[A-Za-z0-9_.-]{1,256}$/;
/** The prefix of an allocation dimension, as the SQL compares it (11 characters). */
export const ALLOCATION_PREFIX = "allocation:";

/** A dimension a custom dimension may stand for: a built-in one or a tag (never another custom one). */
export const DIMENSION_SOURCE_PATTERN = String.raw`^(?:Service|Account|Region|UsageFamily|LineItemType|Resource|Connection|[tT]ag:[^\u0000-\u001f\u007f-\u009f]{1,128}|allocation:[A-Za-z0-9_.-]{1,256})$`;
/** Any cost dimension name: built-in, tag, or custom:<name>. */
export const COST_DIMENSION_PATTERN = String.raw`^(?:Service|Account|Region|UsageFamily|LineItemType|Resource|Connection|[tT]ag:[^\u0000-\u001f\u007f-\u009f]{1,128}|allocation:[A-Za-z0-9_.-]{1,256}|custom:[A-Za-z0-9_][A-Za-z0-9_.-]{0,63})$`;

/**
 * The stored name of a built-in, tag or allocation dimension ('Tag:team' is 'tag:team'), or null
 * for a name that is none of them (custom names are resolved through the organization's definitions first).
 */
export function sourceDimension(name: string): string | null {
	if ((BUILTIN_COST_DIMENSIONS as readonly string[]).includes(name)) return name;
	if (ALLOCATION_DIMENSION.test(name)) return name;
	const tag = TAG_DIMENSION.exec(name);
	return tag ? `tag:${tag[1]}` : null;
}

/** The 400 for a name that is no cost dimension; `path` names the query parameter that gave it. */
function unknownDimension(name: string, path: string): ApiError {
	const detail: ErrorDetail = {
		code: "unknown_dimension",
		message: `'${name.slice(0, 200)}' is not a cost dimension (Service, Account, Region, UsageFamily, LineItemType, Resource, Connection, tag:<key>, allocation:<stream>, or a defined custom:<name>)`,
		path,
	};
	return new ApiError(400, "unknown_dimension", `Unknown cost dimension '${name.slice(0, 200)}'`, [detail]);
}

/**
 * A dimension name as the read passes it to D1: a built-in or tag dimension as stored ('Tag:team'
 * is 'tag:team'), a custom:<name> as it is (the query resolves it); a 400 naming the parameter
 * for anything else, before any D1 read.
 */
export function dimensionName(name: string, path: string): string {
	if (name.startsWith("custom:")) return name;
	const source = sourceDimension(name);
	if (source === null) throw unknownDimension(name, path);
	return source;
}

/** The 400 for custom:<name>s the query found undefined; `pathOf` names each one's parameter. */
export function refuseUnknownNames(unknown: string[], pathOf: (name: string) => string): void {
	if (unknown.length > 0) throw unknownDimension(unknown[0], pathOf(unknown[0]));
}

/**
 * A read splits its cost rows by at most one allocation stream: a 400 naming the parameter of the
 * second stream's name (`pathOf`), when its names (a custom:<name> through its source) read two.
 */
export function refuseSecondAllocation(allocations: Array<{ name: string; source: string }>, pathOf: (name: string) => string): void {
	if (allocations.length < 2) return;
	const [first, second] = allocations;
	const message = `A read splits cost by one allocation stream: '${first.source.slice(0, 200)}' and '${second.source.slice(0, 200)}' are two`;
	throw new ApiError(400, "bad_request", message, [{ code: "bad_request", message, path: pathOf(second.name) }]);
}
