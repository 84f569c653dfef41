// Query handling shared by the read endpoints of both APIs.
import { ApiError, type ErrorDetail } from "./errors";

/** The inclusive day range of a read: open ends mean "from the first" and "to the last" day. */
export function dayRange(startDate: string | undefined, endDate: string | undefined): [startDay: string, endDay: string] {
	const startDay = startDate ?? "0000-01-01";
	const endDay = endDate ?? "9999-12-31";
	if (startDay > endDay) throw new ApiError(400, "invalid_date_range", "start_date must not be after end_date");
	return [startDay, endDay];
}

/**
 * The dimension filters among a read's query parameters: every parameter that is not one of
 * the endpoint's own options. A key the data has no dimension for is an error, not an empty page.
 */
export function dimensionFilters(
	params: Record<string, string[]>,
	options: ReadonlySet<string>,
	dimensionKeys: string[],
	whose: string,
): Array<[key: string, values: string[]]> {
	const filters = Object.entries(params).filter(([key]) => !options.has(key));
	const known = new Set(dimensionKeys);
	const unknown = filters.filter(([key]) => !known.has(key));
	if (unknown.length > 0) {
		const details: ErrorDetail[] = unknown.map(([key]) => ({
			code: "unknown_filter_keys",
			message: `'${key}' is neither a query option nor a ${whose} (${dimensionKeys.join(", ") || "none"})`,
			path: key,
		}));
		throw new ApiError(400, "unknown_filter_keys", "Invalid Schema: Unrecognized filter keys", details);
	}
	return filters;
}
