using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Cimef.Site.Data.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class PatientPhone : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "DeviceHash",
                table: "PatientSessions",
                type: "TEXT",
                maxLength: 64,
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "Language",
                table: "Patients",
                type: "TEXT",
                maxLength: 5,
                nullable: true);

            migrationBuilder.CreateIndex(
                name: "IX_PatientSessions_DeviceHash",
                table: "PatientSessions",
                column: "DeviceHash");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_PatientSessions_DeviceHash",
                table: "PatientSessions");

            migrationBuilder.DropColumn(
                name: "DeviceHash",
                table: "PatientSessions");

            migrationBuilder.DropColumn(
                name: "Language",
                table: "Patients");
        }
    }
}
