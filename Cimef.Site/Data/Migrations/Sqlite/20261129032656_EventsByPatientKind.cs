using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Cimef.Site.Data.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class EventsByPatientKind : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateIndex(
                name: "IX_AccessEvents_PatientAccessId_Kind_At_ReportId",
                table: "AccessEvents",
                columns: new[] { "PatientAccessId", "Kind", "At", "ReportId" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_AccessEvents_PatientAccessId_Kind_At_ReportId",
                table: "AccessEvents");
        }
    }
}
