using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Cimef.Site.Data.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class FhirReportIdentifier : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "IdentifierSystem",
                table: "PatientReports",
                type: "TEXT",
                maxLength: 200,
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "IdentifierValue",
                table: "PatientReports",
                type: "TEXT",
                maxLength: 200,
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "Sha1",
                table: "PatientReports",
                type: "TEXT",
                maxLength: 40,
                nullable: true);

            migrationBuilder.CreateIndex(
                name: "IX_PatientReports_IdentifierSystem_IdentifierValue",
                table: "PatientReports",
                columns: new[] { "IdentifierSystem", "IdentifierValue" },
                unique: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_PatientReports_IdentifierSystem_IdentifierValue",
                table: "PatientReports");

            migrationBuilder.DropColumn(
                name: "IdentifierSystem",
                table: "PatientReports");

            migrationBuilder.DropColumn(
                name: "IdentifierValue",
                table: "PatientReports");

            migrationBuilder.DropColumn(
                name: "Sha1",
                table: "PatientReports");
        }
    }
}
