using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Cimef.Site.Data.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class LoginFailureAccess : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            // Rows written before this migration hold access keys in full; they only matter for 5 minutes anyway.
            migrationBuilder.Sql("DELETE FROM \"LoginFailures\";");

            migrationBuilder.AddColumn<int>(
                name: "PatientAccessId",
                table: "LoginFailures",
                type: "INTEGER",
                nullable: true);

            migrationBuilder.CreateIndex(
                name: "IX_LoginFailures_PatientAccessId_At",
                table: "LoginFailures",
                columns: new[] { "PatientAccessId", "At" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_LoginFailures_PatientAccessId_At",
                table: "LoginFailures");

            migrationBuilder.DropColumn(
                name: "PatientAccessId",
                table: "LoginFailures");
        }
    }
}
