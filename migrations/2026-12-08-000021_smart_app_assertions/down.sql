DROP TABLE smart_app_assertions;
