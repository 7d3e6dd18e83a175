using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Cimef.Site.Data.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class ReportShares : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<int>(
                name: "ReportShareId",
                table: "OutboxMessages",
                type: "INTEGER",
                nullable: true);

            migrationBuilder.CreateTable(
                name: "ReportShares",
                columns: table => new
                {
                    Id = table.Column<int>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    ReportId = table.Column<int>(type: "INTEGER", nullable: false),
                    PatientAccessId = table.Column<int>(type: "INTEGER", nullable: false),
                    TokenHash = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    CodeHash = table.Column<byte[]>(type: "BLOB", maxLength: 32, nullable: false),
                    CreatedAt = table.Column<DateTime>(type: "TEXT", nullable: false),
                    ExpiresAt = table.Column<DateTime>(type: "TEXT", nullable: false),
                    RevokedAt = table.Column<DateTime>(type: "TEXT", nullable: true),
                    RevokedBy = table.Column<string>(type: "TEXT", maxLength: 256, nullable: true),
                    FailedCodeCount = table.Column<int>(type: "INTEGER", nullable: false),
                    LockedAt = table.Column<DateTime>(type: "TEXT", nullable: true),
                    CreatedByStaffId = table.Column<string>(type: "TEXT", maxLength: 450, nullable: true),
                    CreatedByStaffName = table.Column<string>(type: "TEXT", maxLength: 256, nullable: true),
                    Recipient = table.Column<string>(type: "TEXT", maxLength: 254, nullable: true),
                    ProtectedSecret = table.Column<string>(type: "TEXT", maxLength: 1000, nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_ReportShares", x => x.Id);
                    table.ForeignKey(
                        name: "FK_ReportShares_PatientAccesses_PatientAccessId",
                        column: x => x.PatientAccessId,
                        principalTable: "PatientAccesses",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Restrict);
                    table.ForeignKey(
                        name: "FK_ReportShares_PatientReports_ReportId",
                        column: x => x.ReportId,
                        principalTable: "PatientReports",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Restrict);
                });

            migrationBuilder.CreateIndex(
                name: "IX_OutboxMessages_ReportShareId",
                table: "OutboxMessages",
                column: "ReportShareId");

            migrationBuilder.CreateIndex(
                name: "IX_ReportShares_PatientAccessId_RevokedAt_ExpiresAt",
                table: "ReportShares",
                columns: new[] { "PatientAccessId", "RevokedAt", "ExpiresAt" });

            migrationBuilder.CreateIndex(
                name: "IX_ReportShares_ReportId",
                table: "ReportShares",
                column: "ReportId");

            migrationBuilder.CreateIndex(
                name: "IX_ReportShares_TokenHash",
                table: "ReportShares",
                column: "TokenHash",
                unique: true);

            migrationBuilder.AddForeignKey(
                name: "FK_OutboxMessages_ReportShares_ReportShareId",
                table: "OutboxMessages",
                column: "ReportShareId",
                principalTable: "ReportShares",
                principalColumn: "Id",
                onDelete: ReferentialAction.Restrict);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropForeignKey(
                name: "FK_OutboxMessages_ReportShares_ReportShareId",
                table: "OutboxMessages");

            migrationBuilder.DropTable(
                name: "ReportShares");

            migrationBuilder.DropIndex(
                name: "IX_OutboxMessages_ReportShareId",
                table: "OutboxMessages");

            migrationBuilder.DropColumn(
                name: "ReportShareId",
                table: "OutboxMessages");
        }
    }
}
