using System;
using Microsoft.EntityFrameworkCore.Migrations;
using Npgsql.EntityFrameworkCore.PostgreSQL.Metadata;

#nullable disable

namespace Cimef.Site.Data.Migrations.Postgres
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
                type: "text",
                maxLength: 100,
                nullable: true);

            migrationBuilder.AddColumn<int>(
                name: "PaymentCheckoutId",
                table: "OutboxMessages",
                type: "integer",
                nullable: true);

            migrationBuilder.CreateTable(
                name: "PaymentCheckouts",
                columns: table => new
                {
                    Id = table.Column<int>(type: "integer", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    InvoiceId = table.Column<int>(type: "integer", nullable: false),
                    Provider = table.Column<string>(type: "text", maxLength: 20, nullable: false),
                    CheckoutId = table.Column<string>(type: "text", maxLength: 100, nullable: false),
                    Amount = table.Column<int>(type: "integer", nullable: false),
                    Url = table.Column<string>(type: "text", maxLength: 500, nullable: false),
                    Status = table.Column<string>(type: "character varying(10)", maxLength: 10, nullable: false),
                    CreatedAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    CreatedBy = table.Column<string>(type: "text", maxLength: 256, nullable: false),
                    ExpiresAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: true),
                    ClosedAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: true),
                    LastEventId = table.Column<string>(type: "text", maxLength: 100, nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_PaymentCheckouts", x => x.Id);
                    table.CheckConstraint("CK_PaymentCheckout_Amount", "\"Amount\" > 0");
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
