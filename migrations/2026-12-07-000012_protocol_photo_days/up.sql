-- The days since treatment on which a protocol asks the patient for a photo with the check-in
-- (none by default): at most 20 days, each 0-365.
ALTER TABLE protocols ADD COLUMN photo_days integer[] NOT NULL DEFAULT '{}'
    CHECK (cardinality(photo_days) <= 20
           AND array_position(photo_days, NULL) IS NULL
           AND 0 <= ALL (photo_days) AND 365 >= ALL (photo_days));
