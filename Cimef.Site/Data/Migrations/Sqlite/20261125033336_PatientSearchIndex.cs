using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Cimef.Site.Data.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class PatientSearchIndex : Migration
    {
        /// <summary>
        /// SQLite-specific (the one place for it): a trigram FTS5 index over Patients.SearchName for substring name search
        /// (see SqlDialect.PatientIdsWithNameContaining), external-content so names are not stored twice, filled from the
        /// existing rows and kept in sync by triggers, so every writer (pages, API, seed, bench) keeps it right for free.
        /// </summary>
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("""
                CREATE VIRTUAL TABLE "PatientNameIndex" USING fts5("SearchName", content='Patients', content_rowid='Id', tokenize='trigram');
                """);
            migrationBuilder.Sql("""INSERT INTO "PatientNameIndex"("PatientNameIndex") VALUES ('rebuild');""");
            migrationBuilder.Sql("""
                CREATE TRIGGER "Patients_NameIndex_Insert" AFTER INSERT ON "Patients" BEGIN
                    INSERT INTO "PatientNameIndex"(rowid, "SearchName") VALUES (new."Id", new."SearchName");
                END;
                """);
            migrationBuilder.Sql("""
                CREATE TRIGGER "Patients_NameIndex_Delete" AFTER DELETE ON "Patients" BEGIN
                    INSERT INTO "PatientNameIndex"("PatientNameIndex", rowid, "SearchName") VALUES ('delete', old."Id", old."SearchName");
                END;
                """);
            migrationBuilder.Sql("""
                CREATE TRIGGER "Patients_NameIndex_Update" AFTER UPDATE OF "SearchName" ON "Patients" BEGIN
                    INSERT INTO "PatientNameIndex"("PatientNameIndex", rowid, "SearchName") VALUES ('delete', old."Id", old."SearchName");
                    INSERT INTO "PatientNameIndex"(rowid, "SearchName") VALUES (new."Id", new."SearchName");
                END;
                """);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("""DROP TRIGGER IF EXISTS "Patients_NameIndex_Update";""");
            migrationBuilder.Sql("""DROP TRIGGER IF EXISTS "Patients_NameIndex_Delete";""");
            migrationBuilder.Sql("""DROP TRIGGER IF EXISTS "Patients_NameIndex_Insert";""");
            migrationBuilder.Sql("""DROP TABLE IF EXISTS "PatientNameIndex";""");
        }
    }
}
