using Cimef.Site.Data;
using Cimef.Site.Storage;
using Cimef.Site.Web;
using Hl7.Fhir.Model;
using Hl7.Fhir.Serialization;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Cimef.Site.Reports;
using Task = System.Threading.Tasks.Task;

namespace Cimef.Site.Fhir;

/// <summary>
/// POST /fhir/DiagnosticReport and /fhir/DocumentReference: the PDF (or JPEG/PNG) in presentedForm.data or
/// content.attachment.data goes through the staff upload's workflow (ReportPublisher: magic bytes, storage,
/// invoice cross-validation, release and notification). The body may be up to Reports:MaxUploadMegabytes of file
/// once base64 is decoded. If-None-Exist: identifier=system|value returns the report already pushed with that
/// identifier (200) instead of creating a second one.
/// </summary>
public sealed class FhirPush(CimefDb db, ReportPublisher publisher, ReportStore store, IOptions<ReportsOptions> reports, IOptions<ClinicOptions> clinic)
{
    private long MaxFileBytes => reports.Value.MaxUploadMegabytes * 1024L * 1024;

    /// <summary>Base64 takes 4 bytes per 3, plus room for the rest of the resource.</summary>
    private long MaxBodyBytes => MaxFileBytes / 3 * 4 + 8 + UploadLimit.FormOverheadBytes;

    private string TooLarge => $"Fichier trop volumineux : la limite est de {reports.Value.MaxUploadMegabytes} Mo par envoi.";

    public async Task<IResult> CreateAsync(HttpContext http, bool asDocument)
    {
        var ct = http.RequestAborted;
        var kind = asDocument ? "DocumentReference" : "DiagnosticReport";
        if (http.Request.ContentLength > MaxBodyBytes) return FhirJson.Outcome(StatusCodes.Status413PayloadTooLarge, TooLarge, OperationOutcome.IssueType.TooCostly);
        var mediaType = http.Request.ContentType ?? "";
        if (!mediaType.StartsWith("application/fhir+json", StringComparison.OrdinalIgnoreCase) && !mediaType.StartsWith("application/json", StringComparison.OrdinalIgnoreCase))
            return FhirJson.Outcome(StatusCodes.Status415UnsupportedMediaType, "Envoyez la ressource en JSON FHIR (Content-Type: application/fhir+json).", OperationOutcome.IssueType.NotSupported);

        (string System, string Value)? wanted = null;
        if (http.Request.Headers.TryGetValue("If-None-Exist", out var condition))
        {
            wanted = ParseCondition(condition.ToString());
            if (wanted is null) return FhirJson.BadRequest("En-tête If-None-Exist invalide : attendu identifier=système|valeur.");
            var existing = await FindAsync(wanted.Value, ct);
            if (existing is not null) return await AnswerAsync(http, existing.Id, asDocument, StatusCodes.Status200OK, ct);
        }

        var feature = http.Features.Get<IHttpMaxRequestBodySizeFeature>();
        if (feature is { IsReadOnly: false }) feature.MaxRequestBodySize = MaxBodyBytes;
        Resource? resource;
        try
        {
            using var body = new MemoryStream();
            await http.Request.Body.CopyToAsync(body, ct);
            resource = FhirJson.Parse(body.ToArray());
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            http.Response.Headers.Connection = "close";
            return FhirJson.Outcome(StatusCodes.Status413PayloadTooLarge, TooLarge, OperationOutcome.IssueType.TooCostly);
        }
        // Firely's converter throws InvalidOperationException for a body that is not an object (e.g. a JSON array).
        catch (Exception e) when (e is DeserializationFailedException or System.Text.Json.JsonException or InvalidOperationException or FormatException)
        {
            return FhirJson.BadRequest("Ressource FHIR invalide : vérifiez le JSON et chaque élément (" + FhirApi.Truncate(e.Message) + "…).");
        }

        string? title;
        Attachment? attachment;
        ResourceReference? subject;
        Identifier? identifier;
        switch (resource)
        {
            case DiagnosticReport report when !asDocument:
                attachment = report.PresentedForm.FirstOrDefault(a => a.Data is not null);
                title = attachment?.Title ?? report.Code?.Text ?? report.Code?.Coding.FirstOrDefault()?.Display;
                subject = report.Subject;
                identifier = report.Identifier.FirstOrDefault(i => i.System is not null && i.Value is not null);
                break;
            case DocumentReference document when asDocument:
                attachment = document.Content.Select(c => c.Attachment).FirstOrDefault(a => a?.Data is not null);
                title = document.Description ?? attachment?.Title ?? document.Type?.Text;
                subject = document.Subject;
                identifier = new[] { document.MasterIdentifier }.Concat(document.Identifier).FirstOrDefault(i => i?.System is not null && i.Value is not null);
                break;
            default:
                return FhirJson.BadRequest($"Le corps doit être une ressource {kind}.");
        }
        var patientRef = subject?.Reference ?? "";
        if (!patientRef.StartsWith("Patient/", StringComparison.Ordinal) || FhirApi.ParseId(patientRef["Patient/".Length..]) is not int patientId)
            return FhirJson.BadRequest("subject doit désigner un patient de la clinique (Patient/{id}).");
        if (!await db.Patients.AnyAsync(p => p.Id == patientId, ct))
            return FhirJson.Outcome(StatusCodes.Status422UnprocessableEntity, $"Patient/{patientId} introuvable.", OperationOutcome.IssueType.NotFound);
        if (attachment?.Data is not byte[] data) return FhirJson.BadRequest("Le fichier du rapport est obligatoire (données base64 dans l'attachement).");
        if (data.LongLength > MaxFileBytes) return FhirJson.Outcome(StatusCodes.Status413PayloadTooLarge, TooLarge, OperationOutcome.IssueType.TooCostly);

        (string System, string Value)? key = identifier is { System: string system, Value: string value } ? (system, value) : wanted;
        if (key is { } k && (k.System.Length > 200 || k.Value.Length > 200))
            return FhirJson.BadRequest("Identifiant trop long (200 caractères au plus pour le système et la valeur).");
        if (key is { } taken && await FindAsync(taken, ct) is not null)
            return FhirJson.Outcome(StatusCodes.Status409Conflict,
                "Un rapport porte déjà cet identifiant : renvoyez avec If-None-Exist pour ne pas créer de doublon.", OperationOutcome.IssueType.Duplicate);

        ReportPublisher.Result result;
        try
        {
            await using var content = new MemoryStream(data, writable: false);
            result = await publisher.UploadAsync(patientId, null, title, attachment.Title ?? "rapport", content, http.User, ct, key);
        }
        catch (DbUpdateException) when (key is not null)
        {
            // Two pushes with the same identifier at once: the unique index kept one; answer it.
            db.ChangeTracker.Clear();
            var winner = await FindAsync(key.Value, ct);
            if (winner is null) throw;
            return await AnswerAsync(http, winner.Id, asDocument, StatusCodes.Status200OK, ct);
        }
        return result.Outcome switch
        {
            ReportPublisher.Outcome.Published or ReportPublisher.Outcome.StoredInactive =>
                await AnswerAsync(http, result.Report!.Id, asDocument, StatusCodes.Status201Created, ct),
            ReportPublisher.Outcome.Conflict => FhirJson.Outcome(StatusCodes.Status422UnprocessableEntity, result.Message, OperationOutcome.IssueType.BusinessRule),
            ReportPublisher.Outcome.StorageFailed => FhirJson.Outcome(StatusCodes.Status503ServiceUnavailable, result.Message, OperationOutcome.IssueType.Transient),
            _ => FhirJson.BadRequest(result.Message),
        };
    }

    private Task<Data.Entities.PatientReport?> FindAsync((string System, string Value) key, CancellationToken ct) =>
        db.PatientReports.AsNoTracking().SingleOrDefaultAsync(r => r.IdentifierSystem == key.System && r.IdentifierValue == key.Value, ct);

    private async Task<IResult> AnswerAsync(HttpContext http, int id, bool asDocument, int status, CancellationToken ct)
    {
        db.ChangeTracker.Clear();
        var report = await FhirResources.Reports(db).SingleAsync(r => r.Id == id, ct);
        await FhirResources.FillSha1Async(db, store, [report], ct);
        var baseUrl = FhirApi.BaseUrl(http.Request);
        var kind = asDocument ? "DocumentReference" : "DiagnosticReport";
        http.Response.Headers.Location = $"{baseUrl}/{kind}/{report.Id}";
        return FhirJson.Resource(asDocument
            ? FhirResources.DocumentReference(report, baseUrl, clinic.Value.Name)
            : FhirResources.DiagnosticReport(report, baseUrl, clinic.Value.Name), status);
    }

    /// <summary>"identifier=system|value" (URL-encoded or not); anything else is refused.</summary>
    private static (string System, string Value)? ParseCondition(string header)
    {
        const string prefix = "identifier=";
        if (!header.StartsWith(prefix, StringComparison.Ordinal) || header.Contains('&')) return null;
        var (system, value) = FhirApi.Token(Uri.UnescapeDataString(header[prefix.Length..]));
        return system is null || value.Length == 0 ? null : (system, value);
    }
}
