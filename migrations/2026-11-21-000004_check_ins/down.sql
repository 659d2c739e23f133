DROP TABLE check_in_scores;
DROP TABLE check_ins;
