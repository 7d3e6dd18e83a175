using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Cimef.Site.Data.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class WavePayments : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "Reference",
                table: "Payments",
                type: "TEXT",
                maxLength: 100,
                nullable: true);

            migrationBuilder.AddColumn<int>(
                name: "PaymentCheckoutId",
                table: "OutboxMessages",
                type: "INTEGER",
                nullable: true);

            migrationBuilder.CreateTable(
                name: "PaymentCheckouts",
                columns: table => new
                {
                    Id = table.Column<int>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    InvoiceId = table.Column<int>(type: "INTEGER", nullable: false),
                    Provider = table.Column<string>(type: "TEXT", maxLength: 20, nullable: false),
                    CheckoutId = table.Column<string>(type: "TEXT", maxLength: 100, nullable: false),
                    Amount = table.Column<int>(type: "INTEGER", nullable: false),
                    Url = table.Column<string>(type: "TEXT", maxLength: 500, nullable: false),
                    Status = table.Column<string>(type: "TEXT", maxLength: 10, nullable: false),
                    CreatedAt = table.Column<DateTime>(type: "TEXT", nullable: false),
                    CreatedBy = table.Column<string>(type: "TEXT", maxLength: 256, nullable: false),
                    ExpiresAt = table.Column<DateTime>(type: "TEXT", nullable: true),
                    ClosedAt = table.Column<DateTime>(type: "TEXT", nullable: true),
                    LastEventId = table.Column<string>(type: "TEXT", maxLength: 100, nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_PaymentCheckouts", x => x.Id);
                    table.CheckConstraint("CK_PaymentCheckout_Amount", "Amount > 0");
                    table.ForeignKey(
                        name: "FK_PaymentCheckouts_Invoices_InvoiceId",
                        column: x => x.InvoiceId,
                        principalTable: "Invoices",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Restrict);
                });

            migrationBuilder.CreateIndex(
                name: "IX_Payments_Method_Reference",
                table: "Payments",
                columns: new[] { "Method", "Reference" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_OutboxMessages_PaymentCheckoutId",
                table: "OutboxMessages",
                column: "PaymentCheckoutId");

            migrationBuilder.CreateIndex(
                name: "IX_PaymentCheckouts_InvoiceId_CreatedAt",
                table: "PaymentCheckouts",
                columns: new[] { "InvoiceId", "CreatedAt" });

            migrationBuilder.CreateIndex(
                name: "IX_PaymentCheckouts_Provider_CheckoutId",
                table: "PaymentCheckouts",
                columns: new[] { "Provider", "CheckoutId" },
                unique: true);

            migrationBuilder.AddForeignKey(
                name: "FK_OutboxMessages_PaymentCheckouts_PaymentCheckoutId",
                table: "OutboxMessages",
                column: "PaymentCheckoutId",
                principalTable: "PaymentCheckouts",
                principalColumn: "Id",
                onDelete: ReferentialAction.Restrict);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropForeignKey(
                name: "FK_OutboxMessages_PaymentCheckouts_PaymentCheckoutId",
                table: "OutboxMessages");

            migrationBuilder.DropTable(
                name: "PaymentCheckouts");

            migrationBuilder.DropIndex(
                name: "IX_Payments_Method_Reference",
                table: "Payments");

            migrationBuilder.DropIndex(
                name: "IX_OutboxMessages_PaymentCheckoutId",
                table: "OutboxMessages");

            migrationBuilder.DropColumn(
                name: "Reference",
                table: "Payments");

            migrationBuilder.DropColumn(
                name: "PaymentCheckoutId",
                table: "OutboxMessages");
        }
    }
}
