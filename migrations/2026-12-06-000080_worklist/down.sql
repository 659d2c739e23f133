DROP INDEX check_ins_notes_idx;
DROP TABLE card_assignments;
DROP TABLE note_reads;
