using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Cimef.Site.Data.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class PatientRecovery : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<long>(
                name: "RecoveryCodeId",
                table: "OutboxMessages",
                type: "INTEGER",
                nullable: true);

            migrationBuilder.CreateTable(
                name: "RecoveryCodes",
                columns: table => new
                {
                    Id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    ContactHash = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
                    CodeHash = table.Column<byte[]>(type: "BLOB", maxLength: 32, nullable: false),
                    ProtectedCode = table.Column<string>(type: "TEXT", maxLength: 500, nullable: true),
                    Channel = table.Column<string>(type: "TEXT", maxLength: 8, nullable: false),
                    CreatedAt = table.Column<DateTime>(type: "TEXT", nullable: false),
                    ExpiresAt = table.Column<DateTime>(type: "TEXT", nullable: false),
                    Attempts = table.Column<int>(type: "INTEGER", nullable: false),
                    UsedAt = table.Column<DateTime>(type: "TEXT", nullable: true),
                    TokenHash = table.Column<string>(type: "TEXT", maxLength: 64, nullable: true),
                    TokenExpiresAt = table.Column<DateTime>(type: "TEXT", nullable: true),
                    TokenUsedAt = table.Column<DateTime>(type: "TEXT", nullable: true),
                    AccessIds = table.Column<string>(type: "TEXT", maxLength: 200, nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_RecoveryCodes", x => x.Id);
                });

            migrationBuilder.CreateIndex(
                name: "IX_OutboxMessages_RecoveryCodeId",
                table: "OutboxMessages",
                column: "RecoveryCodeId");

            migrationBuilder.CreateIndex(
                name: "IX_RecoveryCodes_ContactHash_CreatedAt",
                table: "RecoveryCodes",
                columns: new[] { "ContactHash", "CreatedAt" });

            migrationBuilder.CreateIndex(
                name: "IX_RecoveryCodes_CreatedAt",
                table: "RecoveryCodes",
                column: "CreatedAt");

            migrationBuilder.CreateIndex(
                name: "IX_RecoveryCodes_TokenHash",
                table: "RecoveryCodes",
                column: "TokenHash",
                unique: true);

            migrationBuilder.AddForeignKey(
                name: "FK_OutboxMessages_RecoveryCodes_RecoveryCodeId",
                table: "OutboxMessages",
                column: "RecoveryCodeId",
                principalTable: "RecoveryCodes",
                principalColumn: "Id",
                onDelete: ReferentialAction.SetNull);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropForeignKey(
                name: "FK_OutboxMessages_RecoveryCodes_RecoveryCodeId",
                table: "OutboxMessages");

            migrationBuilder.DropTable(
                name: "RecoveryCodes");

            migrationBuilder.DropIndex(
                name: "IX_OutboxMessages_RecoveryCodeId",
                table: "OutboxMessages");

            migrationBuilder.DropColumn(
                name: "RecoveryCodeId",
                table: "OutboxMessages");
        }
    }
}
