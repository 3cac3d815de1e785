-- Up Migration
-- A user's phone number for codes sent by SMS, in E.164 (`+` and 7 to 15 digits, the first not 0); optional.
ALTER TABLE users ADD COLUMN phone_number text CONSTRAINT users_phone_number_e164 CHECK (phone_number ~ '^\+[1-9][0-9]{6,14}$');

-- Down Migration
ALTER TABLE users DROP COLUMN phone_number;
