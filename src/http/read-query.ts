// Query handling shared by the read endpoints of both APIs.
import { FILTER_PARAM } from "../schemas/common";
import { ApiError, type ErrorDetail } from "./errors";

/** The inclusive day range of a read: open ends mean "from the first" and "to the last" day. */
export function dayRange(startDate: string | undefined, endDate: string | undefined): [startDay: string, endDay: string] {
	const startDay = startDate ?? "0000-01-01";
	const endDay = endDate ?? "9999-12-31";
	if (startDay > endDay) throw new ApiError(400, "invalid_date_range", "start_date must not be after end_date");
	return [startDay, endDay];
}

/**
 * The dimension filters among a read's query parameters. Any other parameter that is not one of
 * the endpoint's options is refused (invalid_filter), and so is a dimension the data does not
 * have (unknown_filter_keys): a typo is an error, not an empty page.
 */
export function dimensionFilters(
	params: Record<string, string[]>,
	options: ReadonlySet<string>,
	dimensionKeys: string[],
	whose: string,
): Array<[key: string, values: string[]]> {
	const filters: Array<[string, string[]]> = [];
	const malformed: ErrorDetail[] = [];
	for (const [param, values] of Object.entries(params)) {
		const filter = FILTER_PARAM.exec(param);
		if (filter) filters.push([filter[1], values]);
		else if (!options.has(param)) {
			malformed.push({
				code: "invalid_filter",
				message: `'${param.slice(0, 200)}' is not a query option of this endpoint; filter by a ${whose} with dim[<name>]=<value>`,
				path: param.slice(0, 200),
			});
		}
	}
	if (malformed.length > 0) throw new ApiError(400, "invalid_filter", "Invalid filter: filters are written dim[<dimension name>]=<value>", malformed);
	const known = new Set(dimensionKeys);
	const unknown = filters.filter(([key]) => !known.has(key));
	if (unknown.length > 0) {
		const details: ErrorDetail[] = unknown.map(([key]) => ({
			code: "unknown_filter_keys",
			message: `'${key.slice(0, 200)}' is not a ${whose} (${dimensionKeys.join(", ") || "none"})`,
			path: `dim[${key.slice(0, 200)}]`,
		}));
		throw new ApiError(400, "unknown_filter_keys", "Invalid Schema: Unrecognized filter keys", details);
	}
	return filters;
}
