use aftercare::db::MIGRATIONS;
use diesel::prelude::*;
use diesel::sql_types::Text;
use diesel_migrations::MigrationHarness;

use crate::helpers::db_url;

#[derive(QueryableByName, PartialEq, Debug)]
struct Line {
    #[diesel(sql_type = Text)]
    line: String,
}

/// The schema as text: tables and columns, constraints and indexes.
fn schema(conn: &mut PgConnection) -> Vec<String> {
    let sql = "
        SELECT table_name || '.' || column_name || ' ' || data_type || ' ' || is_nullable || ' ' || coalesce(column_default, '') AS line
          FROM information_schema.columns WHERE table_schema = 'public' AND table_name <> '__diesel_schema_migrations'
        UNION ALL
        SELECT conrelid::regclass || ' ' || conname || ' ' || pg_get_constraintdef(oid)
          FROM pg_constraint WHERE connamespace = 'public'::regnamespace
        UNION ALL
        SELECT indexdef FROM pg_indexes WHERE schemaname = 'public' AND tablename <> '__diesel_schema_migrations'
        ORDER BY 1";
    diesel::sql_query(sql)
        .load::<Line>(conn)
        .unwrap()
        .into_iter()
        .map(|l| l.line)
        .collect()
}

#[test]
fn every_down_migration_undoes_its_up() {
    let mut admin = PgConnection::establish(&db_url("postgres")).unwrap();
    let name = format!("aftercare_migrations_{}", uuid::Uuid::new_v4().simple());
    diesel::sql_query(format!("CREATE DATABASE {name}"))
        .execute(&mut admin)
        .unwrap();
    {
        let mut conn = PgConnection::establish(&db_url(&name)).unwrap();
        let count = conn.pending_migrations(MIGRATIONS).unwrap().len();
        assert!(count > 0);
        for _ in 0..count {
            let before = schema(&mut conn);
            let version = conn.run_next_migration(MIGRATIONS).unwrap().to_string();
            let after = schema(&mut conn);
            assert_ne!(before, after, "{version} changed nothing");
            conn.revert_last_migration(MIGRATIONS).unwrap();
            assert_eq!(
                schema(&mut conn),
                before,
                "the down of {version} does not undo its up"
            );
            conn.run_next_migration(MIGRATIONS).unwrap();
        }
        assert!(
            schema(&mut conn)
                .iter()
                .any(|l| l.starts_with("check_ins."))
        );
    }
    diesel::sql_query(format!("DROP DATABASE {name} WITH (FORCE)"))
        .execute(&mut admin)
        .unwrap();
}
