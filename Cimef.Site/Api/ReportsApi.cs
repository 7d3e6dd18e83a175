using Microsoft.AspNetCore.Http.Features;
using Cimef.Site.Auditing;
using Cimef.Site.Data;
using Cimef.Site.Data.Entities;
using Cimef.Site.Reports;
using Cimef.Site.Web;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.EntityFrameworkCore;
using Cimef.Site.Portal;

namespace Cimef.Site.Api;

/// <summary>
/// Reports API for integrations (a RIS or an imaging workstation). Staff cookie or Bearer token, Doctor/Admin.
/// POST is multipart: a Bearer caller needs nothing else; a cookie caller must also send the antiforgery
/// token (form field or RequestVerificationToken header), because a multipart form can be posted cross-site.
/// PUT takes JSON only (a cross-site form cannot send application/json) with SameSite=Strict cookies.
/// The patient's own list and downloads sit under the same URL prefix, behind the patient session instead.
/// </summary>
public static class ReportsApi
{
    public sealed record ReportJson(int Id, bool IsActive, string InvoiceNumber, string Sha256, long FileSize);

    public sealed record StateInput(bool? IsActive, string? Reason);

    public sealed record PatientReportJson(int Id, string Title, DateTime CreatedAt, int DownloadCount, bool IsAccessible, string FileType, long FileSize, string DownloadUrl);

    public static void MapReportsApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/reports").RequireAuthorization(Policies.Reports);
        group.MapPost("/", UploadAsync).WithMetadata(new ReportUploadAttribute());
        group.MapPut("/{id:int}/", SetStateAsync);

        // The patient's own reports (spec's patient API): a valid patient session, nothing else.
        var patient = app.MapGroup("/api/reports").RequireAuthorization(Policies.Patient);
        patient.MapGet("/patient/", PatientReports).WithMetadata(new ReadsPatientReportsAttribute(PatientReads.Reports)).ForPatients();
        patient.MapMethods("/download/{id}/", [HttpMethods.Get, HttpMethods.Head], DownloadAsync).ForPatients(download: true);
    }


    private static async Task<IResult> UploadAsync(HttpContext http, CimefDb db, ReportPublisher publisher, IAntiforgery antiforgery, CancellationToken ct)
    {
        var bearer = http.User.Identities.Any(i => i.IsAuthenticated && i.AuthenticationType == AuthSchemes.ApiToken);
        if (!bearer && !await antiforgery.IsRequestValidAsync(http))
            return ApiJson.Error("Jeton anti-falsification manquant ou invalide : utilisez un jeton d'API (Bearer) ou le formulaire du site.");
        if (!http.Request.HasFormContentType) return ApiJson.Error("Envoyez un formulaire multipart/form-data (patient_id ou invoice_number, title, file).");
        var form = await http.Request.ReadFormAsync(ct);
        var file = form.Files.GetFile("file");
        if (file is null) return ApiJson.Error("Le fichier est obligatoire (champ « file »).");

        int patientId;
        int? invoiceId = null;
        var invoiceNumber = form["invoice_number"].ToString().Trim();
        if (invoiceNumber.Length > 0)
        {
            var invoice = await db.Invoices.SingleOrDefaultAsync(i => i.Number == invoiceNumber, ct);
            if (invoice is null) return ApiJson.Error(ReportPublisher.NoInvoice + $" : facture {invoiceNumber} introuvable.", StatusCodes.Status409Conflict);
            patientId = invoice.PatientId;
            invoiceId = invoice.Id;
            if (int.TryParse(form["patient_id"], out var pid) && pid != patientId)
                return ApiJson.Error(ReportPublisher.NoInvoice + " : cette facture n'appartient pas à ce patient.", StatusCodes.Status409Conflict);
        }
        else if (!int.TryParse(form["patient_id"], out patientId))
            return ApiJson.Error("Indiquez patient_id ou invoice_number.");

        await using var content = file.OpenReadStream();
        var result = await publisher.UploadAsync(patientId, invoiceId, form["title"], file.FileName, content, http.User, ct);
        return result.Outcome switch
        {
            ReportPublisher.Outcome.Published or ReportPublisher.Outcome.StoredInactive =>
                Results.Json(ToJson(result.Report!, result.Invoice!.Number), statusCode: StatusCodes.Status201Created),
            ReportPublisher.Outcome.Conflict => ApiJson.Error(result.Message, StatusCodes.Status409Conflict),
            ReportPublisher.Outcome.StorageFailed => ApiJson.Error(result.Message, StatusCodes.Status503ServiceUnavailable),
            _ => ApiJson.Error(result.Message),
        };
    }

    private static async Task<IResult> SetStateAsync(int id, StateInput input, HttpContext http, CimefDb db, ReportPublisher publisher, CancellationToken ct)
    {
        if (input.IsActive is not bool active) return ApiJson.Error("Indiquez is_active (true ou false).");
        var report = await db.PatientReports.Include(r => r.Invoice).SingleOrDefaultAsync(r => r.Id == id, ct);
        if (report is null) return ApiJson.NotFound("Rapport introuvable.");
        var result = active ? await publisher.PublishAsync(report, http.User, ct) : publisher.Withdraw(report, input.Reason, http.User);
        if (result.Outcome == ReportPublisher.Outcome.Invalid) return ApiJson.Error(result.Message);
        if (result.Outcome == ReportPublisher.Outcome.Conflict) return ApiJson.Error(result.Message, StatusCodes.Status409Conflict);
        await db.SaveChangesAsync(ct);
        return Results.Ok(ToJson(report, report.Invoice.Number));
    }

    private static ReportJson ToJson(PatientReport r, string invoiceNumber) => new(r.Id, r.IsActive, invoiceNumber, r.Sha256, r.Size);

    /// <summary>The list was read with the session check, in the same round trip (<see cref="PatientReads.Reports"/>).</summary>
    private static IResult PatientReports(HttpContext http, AccessEventBatch events, TimeProvider time)
    {
        http.Response.Headers.CacheControl = "no-store";
        var rows = http.Features.GetRequiredFeature<PatientDashboardData>().Reports;
        events.Enqueue(Audit.PatientEvent(http, time.GetUtcNow().UtcDateTime, AccessEventKinds.ReportList, http.User.AccessId(), detail: "api"));
        return Results.Json(rows.Select(r => new PatientReportJson(r.Id, r.Title, r.CreatedAt, r.DownloadCount, r.Available,
            r.FileType, r.Size, $"/api/reports/download/{r.Id}/")));
    }

    private static async Task<IResult> DownloadAsync(HttpContext http, string id, PatientReportFiles files)
    {
        http.Response.Headers.CacheControl = "no-store";
        var result = await files.OpenAsync(http, http.User.AccessId(), id, ReportDelivery.Form.Attachment, http.RequestAborted);
        return result?.Outcome switch
        {
            ReportDelivery.Outcome.Ok => result.Response!,
            ReportDelivery.Outcome.Gone => ApiJson.Error(PatientMessages.ReportGone, StatusCodes.Status410Gone),
            ReportDelivery.Outcome.Unavailable => ApiJson.Error(PatientMessages.FileUnavailable, StatusCodes.Status503ServiceUnavailable),
            _ => ApiJson.Error(PatientMessages.ReportNotFound, StatusCodes.Status404NotFound),
        };
    }
}
