// Files imported as strings: wrangler's default module rule bundles *.txt as Text modules.
declare module "*.txt" {
	const text: string;
	export default text;
}
