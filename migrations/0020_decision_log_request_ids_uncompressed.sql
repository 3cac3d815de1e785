-- Up Migration
-- A batch's request ids are mostly random (UUIDs): PostgreSQL's default compression tried and failed to shrink them
-- on every insert, which was most of the database's CPU per logged decision, for no saving in size. They are now
-- stored out of line uncompressed; partitions made later inherit the setting.
ALTER TABLE decision_log_batches ALTER COLUMN request_id SET STORAGE EXTERNAL;

-- Down Migration
ALTER TABLE decision_log_batches ALTER COLUMN request_id SET STORAGE EXTENDED;
