using System;
using Microsoft.EntityFrameworkCore.Migrations;
using Npgsql.EntityFrameworkCore.PostgreSQL.Metadata;

#nullable disable

namespace Cimef.Site.Data.Migrations.Postgres
{
    /// <inheritdoc />
    public partial class Imaging : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "ImagingStudies",
                columns: table => new
                {
                    Id = table.Column<int>(type: "integer", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    OrthancId = table.Column<string>(type: "text", maxLength: 64, nullable: false),
                    StudyInstanceUid = table.Column<string>(type: "text", maxLength: 64, nullable: false),
                    AccessionNumber = table.Column<string>(type: "text", maxLength: 64, nullable: true),
                    DicomPatientName = table.Column<string>(type: "text", maxLength: 200, nullable: true),
                    StudyDate = table.Column<DateOnly>(type: "date", nullable: true),
                    Modality = table.Column<string>(type: "text", maxLength: 32, nullable: false),
                    Description = table.Column<string>(type: "text", maxLength: 200, nullable: false),
                    SeriesCount = table.Column<int>(type: "integer", nullable: false),
                    InstanceCount = table.Column<int>(type: "integer", nullable: false),
                    ArchiveBytes = table.Column<long>(type: "bigint", nullable: false),
                    ArchiveFile = table.Column<string>(type: "text", maxLength: 200, nullable: true),
                    ReceivedAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    PatientId = table.Column<int>(type: "integer", nullable: true),
                    InvoiceId = table.Column<int>(type: "integer", nullable: true),
                    LinkSource = table.Column<string>(type: "character varying(8)", maxLength: 8, nullable: true),
                    LinkedAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: true),
                    LinkedBy = table.Column<string>(type: "text", maxLength: 256, nullable: true),
                    ViewCount = table.Column<int>(type: "integer", nullable: false),
                    ArchiveDownloadCount = table.Column<int>(type: "integer", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_ImagingStudies", x => x.Id);
                    table.ForeignKey(
                        name: "FK_ImagingStudies_Invoices_InvoiceId",
                        column: x => x.InvoiceId,
                        principalTable: "Invoices",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Restrict);
                    table.ForeignKey(
                        name: "FK_ImagingStudies_Patients_PatientId",
                        column: x => x.PatientId,
                        principalTable: "Patients",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Restrict);
                });

            migrationBuilder.CreateIndex(
                name: "IX_ImagingStudies_InvoiceId",
                table: "ImagingStudies",
                column: "InvoiceId");

            migrationBuilder.CreateIndex(
                name: "IX_ImagingStudies_OrthancId",
                table: "ImagingStudies",
                column: "OrthancId",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_ImagingStudies_PatientId",
                table: "ImagingStudies",
                column: "PatientId");

            migrationBuilder.CreateIndex(
                name: "IX_ImagingStudies_StudyInstanceUid",
                table: "ImagingStudies",
                column: "StudyInstanceUid");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "ImagingStudies");
        }
    }
}
