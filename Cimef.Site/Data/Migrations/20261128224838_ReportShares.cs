using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Cimef.Site.Data.Migrations
{
    /// <inheritdoc />
    public partial class ReportShares : Migration
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

            migrationBuilder.AddColumn<string>(
                name: "ClaimedBy",
                table: "OutboxMessages",
                type: "TEXT",
                maxLength: 100,
                nullable: true);

            migrationBuilder.AddColumn<DateTime>(
                name: "LeaseUntil",
                table: "OutboxMessages",
                type: "TEXT",
                nullable: true);

            migrationBuilder.AddColumn<int>(
                name: "ReportShareId",
                table: "OutboxMessages",
                type: "INTEGER",
                nullable: true);

            migrationBuilder.CreateTable(
                name: "ClusterSecrets",
                columns: table => new
                {
                    Name = table.Column<string>(type: "TEXT", maxLength: 60, nullable: false),
                    ProtectedValue = table.Column<string>(type: "TEXT", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_ClusterSecrets", x => x.Name);
                });

            migrationBuilder.CreateTable(
                name: "DataProtectionKeys",
                columns: table => new
                {
                    Id = table.Column<int>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    FriendlyName = table.Column<string>(type: "TEXT", nullable: true),
                    Xml = table.Column<string>(type: "TEXT", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_DataProtectionKeys", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "JobStates",
                columns: table => new
                {
                    Name = table.Column<string>(type: "TEXT", maxLength: 40, nullable: false),
                    LastRunAt = table.Column<DateTime>(type: "TEXT", nullable: true),
                    RunBy = table.Column<string>(type: "TEXT", maxLength: 100, nullable: true),
                    Cursor = table.Column<long>(type: "INTEGER", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_JobStates", x => x.Name);
                });

            migrationBuilder.CreateTable(
                name: "PortalTimings",
                columns: table => new
                {
                    Node = table.Column<string>(type: "TEXT", maxLength: 100, nullable: false),
                    Minute = table.Column<DateTime>(type: "TEXT", nullable: false),
                    UpperMs = table.Column<int>(type: "INTEGER", nullable: false),
                    Count = table.Column<int>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_PortalTimings", x => new { x.Node, x.Minute, x.UpperMs });
                });

            migrationBuilder.CreateTable(
                name: "RateLimitCounters",
                columns: table => new
                {
                    Policy = table.Column<string>(type: "TEXT", maxLength: 40, nullable: false),
                    Bucket = table.Column<string>(type: "TEXT", maxLength: 50, nullable: false),
                    WindowStart = table.Column<DateTime>(type: "TEXT", nullable: false),
                    Count = table.Column<int>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_RateLimitCounters", x => new { x.Policy, x.Bucket, x.WindowStart });
                });

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
                name: "IX_PatientReports_IdentifierSystem_IdentifierValue",
                table: "PatientReports",
                columns: new[] { "IdentifierSystem", "IdentifierValue" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_OutboxMessages_ReportShareId",
                table: "OutboxMessages",
                column: "ReportShareId");

            migrationBuilder.CreateIndex(
                name: "IX_PortalTimings_Minute",
                table: "PortalTimings",
                column: "Minute");

            migrationBuilder.CreateIndex(
                name: "IX_RateLimitCounters_WindowStart",
                table: "RateLimitCounters",
                column: "WindowStart");

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
                name: "ClusterSecrets");

            migrationBuilder.DropTable(
                name: "DataProtectionKeys");

            migrationBuilder.DropTable(
                name: "JobStates");

            migrationBuilder.DropTable(
                name: "PortalTimings");

            migrationBuilder.DropTable(
                name: "RateLimitCounters");

            migrationBuilder.DropTable(
                name: "ReportShares");

            migrationBuilder.DropIndex(
                name: "IX_PatientReports_IdentifierSystem_IdentifierValue",
                table: "PatientReports");

            migrationBuilder.DropIndex(
                name: "IX_OutboxMessages_ReportShareId",
                table: "OutboxMessages");

            migrationBuilder.DropColumn(
                name: "IdentifierSystem",
                table: "PatientReports");

            migrationBuilder.DropColumn(
                name: "IdentifierValue",
                table: "PatientReports");

            migrationBuilder.DropColumn(
                name: "Sha1",
                table: "PatientReports");

            migrationBuilder.DropColumn(
                name: "ClaimedBy",
                table: "OutboxMessages");

            migrationBuilder.DropColumn(
                name: "LeaseUntil",
                table: "OutboxMessages");

            migrationBuilder.DropColumn(
                name: "ReportShareId",
                table: "OutboxMessages");
        }
    }
}
