-- Scratch space of one billing drop (src/storage/costs.ts): the drop's dimension sets, numbered
-- as its rows refer to them, so that each set travels to D1 once per drop rather than once per
-- statement that needs it. The drop's own statements fill it, read it and empty it inside its
-- D1 batch (one transaction), so it holds nothing between batches.
CREATE TABLE cost_drop_dims (
	idx INTEGER PRIMARY KEY,
	dims TEXT NOT NULL,
	dims_id INTEGER
);
