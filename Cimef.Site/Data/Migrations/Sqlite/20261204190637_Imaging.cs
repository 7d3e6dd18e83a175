using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Cimef.Site.Data.Migrations.Sqlite
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
                    Id = table.Column<int>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    OrthancId = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    StudyInstanceUid = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    AccessionNumber = table.Column<string>(type: "TEXT", maxLength: 64, nullable: true),
                    DicomPatientName = table.Column<string>(type: "TEXT", maxLength: 200, nullable: true),
                    StudyDate = table.Column<DateOnly>(type: "TEXT", nullable: true),
                    Modality = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
                    Description = table.Column<string>(type: "TEXT", maxLength: 200, nullable: false),
                    SeriesCount = table.Column<int>(type: "INTEGER", nullable: false),
                    InstanceCount = table.Column<int>(type: "INTEGER", nullable: false),
                    ArchiveBytes = table.Column<long>(type: "INTEGER", nullable: false),
                    ArchiveFile = table.Column<string>(type: "TEXT", maxLength: 200, nullable: true),
                    ReceivedAt = table.Column<DateTime>(type: "TEXT", nullable: false),
                    PatientId = table.Column<int>(type: "INTEGER", nullable: true),
                    InvoiceId = table.Column<int>(type: "INTEGER", nullable: true),
                    LinkSource = table.Column<string>(type: "TEXT", maxLength: 8, nullable: true),
                    LinkedAt = table.Column<DateTime>(type: "TEXT", nullable: true),
                    LinkedBy = table.Column<string>(type: "TEXT", maxLength: 256, nullable: true),
                    ViewCount = table.Column<int>(type: "INTEGER", nullable: false),
                    ArchiveDownloadCount = table.Column<int>(type: "INTEGER", nullable: false)
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
