using System.Security.Cryptography;
using Cimef.Site.Data;
using Cimef.Site.Data.Entities;
using Patient = Hl7.Fhir.Model.Patient;
using DiagnosticReport = Hl7.Fhir.Model.DiagnosticReport;
using DocumentReference = Hl7.Fhir.Model.DocumentReference;
using Cimef.Site.Storage;
using Hl7.Fhir.Model;
using Microsoft.EntityFrameworkCore;

namespace Cimef.Site.Fhir;

/// <summary>
/// The clinic's data as FHIR R4 resources. Logical ids: a Patient's is the clinic's patient id; a report's
/// DiagnosticReport, DocumentReference and Binary share the report's id.
/// </summary>
public static class FhirResources
{
    public const string PatientIdSystem = "urn:cimef:patient-id";
    public const string ExamSystem = "urn:cimef:exam-code";
    public const string V2DiagnosticService = "http://terminology.hl7.org/CodeSystem/v2-0074";

    public static Patient Patient(Data.Entities.Patient p)
    {
        var patient = new Patient
        {
            Id = Id(p.Id),
            Identifier = [new Identifier(PatientIdSystem, Id(p.Id))],
            Name = [new HumanName { Text = p.FullName }],
            Telecom = [new ContactPoint(ContactPoint.ContactPointSystem.Phone, ContactPoint.ContactPointUse.Mobile, p.Phone)],
            BirthDate = p.DateOfBirth?.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture),
        };
        if (!string.IsNullOrEmpty(p.Email))
            patient.Telecom.Add(new ContactPoint(ContactPoint.ContactPointSystem.Email, ContactPoint.ContactPointUse.Home, p.Email));
        return patient;
    }

    /// <summary>Reports with what their resources need: the patient id (through the access) and the invoice's exams.</summary>
    public static IQueryable<PatientReport> Reports(CimefDb db) =>
        db.PatientReports.AsNoTracking()
            .Include(r => r.PatientAccess)
            .Include(r => r.Invoice).ThenInclude(i => i.Lines).ThenInclude(l => l.Exam);

    public static bool IsWithdrawn(PatientReport r) => r.WithdrawnAt is not null;

    /// <summary>The report; <paramref name="imagingStudies"/>: the ImagingStudy ids of its exam (DiagnosticReport.imagingStudy).</summary>
    public static DiagnosticReport DiagnosticReport(PatientReport r, string baseUrl, string clinic, IEnumerable<int>? imagingStudies = null) => new()
    {
        Id = Id(r.Id),
        Identifier = Identifiers(r),
        Status = IsWithdrawn(r) ? Hl7.Fhir.Model.DiagnosticReport.DiagnosticReportStatus.EnteredInError
            : r.IsActive ? Hl7.Fhir.Model.DiagnosticReport.DiagnosticReportStatus.Final : Hl7.Fhir.Model.DiagnosticReport.DiagnosticReportStatus.Registered,
        Category = [Radiology()],
        Code = Code(r),
        Subject = new ResourceReference("Patient/" + Id(r.PatientAccess.PatientId)),
        Effective = new FhirDateTime(Utc(r.CreatedAt)),
        Issued = Utc(r.CreatedAt),
        Performer = [new ResourceReference { Display = clinic }],
        Conclusion = IsWithdrawn(r) ? "Rapport retiré : " + r.WithdrawalReason : null,
        PresentedForm = [Attachment(r, baseUrl)],
        ImagingStudy = (imagingStudies ?? []).Select(id => new ResourceReference("ImagingStudy/" + Id(id))).ToList(),
    };

    public static DocumentReference DocumentReference(PatientReport r, string baseUrl, string clinic) => new()
    {
        Id = Id(r.Id),
        Identifier = Identifiers(r),
        Status = IsWithdrawn(r) ? DocumentReferenceStatus.EnteredInError : DocumentReferenceStatus.Current,
        DocStatus = r.IsActive ? CompositionStatus.Final : CompositionStatus.Preliminary,
        Type = Code(r),
        Category = [Radiology()],
        Subject = new ResourceReference("Patient/" + Id(r.PatientAccess.PatientId)),
        Date = Utc(r.CreatedAt),
        Custodian = new ResourceReference { Display = clinic },
        Description = IsWithdrawn(r) ? r.Title + " (retiré : " + r.WithdrawalReason + ")" : r.Title,
        Content = [new Hl7.Fhir.Model.DocumentReference.ContentComponent { Attachment = Attachment(r, baseUrl) }],
        Context = new Hl7.Fhir.Model.DocumentReference.ContextComponent { Related = [new ResourceReference("DiagnosticReport/" + Id(r.Id))] },
    };

    /// <summary>Fills in the SHA-1 (FHIR's Attachment.hash) of reports that have none yet, from their stored files.</summary>
    public static async System.Threading.Tasks.Task FillSha1Async(CimefDb db, ReportStore store, IEnumerable<PatientReport> reports, CancellationToken ct)
    {
        foreach (var r in reports.Where(r => r.Sha1 is null))
        {
            ReportStore.OpenedFile? file;
            try { file = await store.OpenReadAsync(r.StoredFileName, ct); }
            catch (ReportStore.UnavailableException) { return; } // the store is down: no hash this time, the next read fills it
            if (file is null) continue;
            await using (file.Content)
                r.Sha1 = Convert.ToHexStringLower(await SHA1.HashDataAsync(file.Content, ct));
            await db.PatientReports.Where(x => x.Id == r.Id).ExecuteUpdateAsync(u => u.SetProperty(x => x.Sha1, r.Sha1), ct);
        }
    }

    private static Attachment Attachment(PatientReport r, string baseUrl) => new()
    {
        ContentType = r.ContentType,
        SizeUnsignedInt = r.Size <= int.MaxValue ? (int)r.Size : null,
        Hash = r.Sha1 is null ? null : Convert.FromHexString(r.Sha1),
        Title = r.Title,
        Url = $"{baseUrl}/Binary/{Id(r.Id)}",
        Creation = new FhirDateTime(Utc(r.CreatedAt)).Value,
    };

    private static List<Identifier> Identifiers(PatientReport r) =>
        r.IdentifierSystem is not null && r.IdentifierValue is not null ? [new Identifier(r.IdentifierSystem, r.IdentifierValue)] : [];

    private static CodeableConcept Radiology() => new(V2DiagnosticService, "RAD", "Radiologie");

    private static CodeableConcept Code(PatientReport r)
    {
        var exam = r.Invoice.Lines.OrderBy(l => l.Id).Select(l => l.Exam).FirstOrDefault(e => e is not null);
        return exam is null ? new CodeableConcept { Text = r.Title } : new CodeableConcept(ExamSystem, exam.Code, exam.Name, r.Title);
    }

    private static DateTimeOffset Utc(DateTime at) => new(DateTime.SpecifyKind(at, DateTimeKind.Utc));

    public static string Id(int id) => id.ToString(System.Globalization.CultureInfo.InvariantCulture);
}
