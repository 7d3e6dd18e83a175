using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Cimef.Site.Data.Migrations.Postgres
{
    /// <inheritdoc />
    public partial class CredentialHandoverKind : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "Handover",
                table: "AuditEntries",
                type: "character varying(16)",
                maxLength: 16,
                nullable: true);

            // The rows written before the column: classified once from the detail the handover wrote
            // ("patient N[, facture F], canal C"), so the history never reads that text again.
            migrationBuilder.Sql("""
                UPDATE "AuditEntries" SET "Handover" = CASE
                    WHEN "Detail" LIKE '%, facture %' THEN 'Printed'
                    WHEN "Detail" LIKE '%canal page' THEN 'Shown'
                    ELSE 'Handed' END
                WHERE "Action" = 'access.reveal'
                """);

        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "Handover",
                table: "AuditEntries");
        }
    }
}
