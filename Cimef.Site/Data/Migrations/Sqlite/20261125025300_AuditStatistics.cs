using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Cimef.Site.Data.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class AuditStatistics : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_AccessEvents_Kind_At",
                table: "AccessEvents");

            migrationBuilder.CreateIndex(
                name: "IX_AccessEvents_Kind_At_PatientAccessId_ReportId",
                table: "AccessEvents",
                columns: new[] { "Kind", "At", "PatientAccessId", "ReportId" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_AccessEvents_Kind_At_PatientAccessId_ReportId",
                table: "AccessEvents");

            migrationBuilder.CreateIndex(
                name: "IX_AccessEvents_Kind_At",
                table: "AccessEvents",
                columns: new[] { "Kind", "At" });
        }
    }
}
