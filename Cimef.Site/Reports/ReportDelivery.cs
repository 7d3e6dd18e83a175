using System.Security.Claims;
using Cimef.Site.Auditing;
using Cimef.Site.Data;
using Cimef.Site.Data.Entities;
using Cimef.Site.Fhir;
using Cimef.Site.Storage;
using Cimef.Site.Web;

namespace Cimef.Site.Reports;

/// <summary>
/// The one place that serves a report's file, whoever asks for it (the patient's page and API, a doctor's share, FHIR
/// Binary), once the caller has decided the report is theirs to ask for. Withdrawn or expired = Gone (410); a file
/// known missing or altered, or absent from the store = Unavailable (503) and a critical alert; the store unreachable
/// = Unavailable without an alert (the file is not lost). Every GET that delivers bytes is accounted, committed through
/// <see cref="AccessEventBatch"/> before the bytes are sent (one fsync for a burst): a delivery from byte 0 counts as a
/// download, a Range continuation is recorded without counting, so range-only scraping still shows. HEAD (no bytes) and
/// an unsatisfiable range (416) write nothing. How a delivery is recorded depends on the recipient:
/// <list type="bullet">
/// <item><see cref="Patient"/>: AccessEvent download (+1 on the report's download count) or download_part; its
/// refusals are AccessEvents too (download_gone, file_missing).</item>
/// <item><see cref="Share"/>: AccessEvent share_download (Detail = share id) from byte 0 only; it does not count in the
/// patient's own download count, which tells the patient how often they fetched it themselves.</item>
/// <item><see cref="Integration"/>: audit entry report.download under the token's account (+1 on the count from byte 0).</item>
/// </list>
/// </summary>
public sealed class ReportDelivery(IServiceProvider services, ReportStore store, TimeProvider time, ClinicClock clock, AccessEventBatch events)
{
    public enum Outcome { Ok, Gone, Unavailable }

    /// <summary>How the file is answered: a download, opened in the browser, or a FHIR Binary resource (JSON, base64).</summary>
    public enum Form { Attachment, Inline, FhirBinary }

    /// <summary>Who receives the file: decides how its delivery and refusals are recorded.</summary>
    public abstract record Recipient;

    public sealed record Patient(int AccessId) : Recipient;

    public sealed record Share(int AccessId, string ShareId) : Recipient;

    public sealed record Integration(ClaimsPrincipal User) : Recipient;

    /// <summary>On Ok, the response that sends the file (disposed with the request).</summary>
    public sealed record Result(Outcome Outcome, IResult? Response = null);

    public enum Delivery { Nothing, FromStart, Continuation }

    public const string DownloadAction = "report.download";

    /// <summary>The request's context, built only when used: a download on SQLite never needs it.</summary>
    private CimefDb db => field ??= services.GetRequiredService<CimefDb>();

    public static bool FileAvailable(FileIntegrity integrity) => integrity is not (FileIntegrity.Missing or FileIntegrity.Altered);

    public async Task<Result> ServeAsync(HttpContext http, PatientReport report, Recipient to, Form form, CancellationToken ct = default)
    {
        var now = time.GetUtcNow().UtcDateTime;
        if (!report.IsActive || report.ExpiresAt <= now)
        {
            if (to is Patient patient)
            {
                Audit.Patient(db, http, now, AccessEventKinds.DownloadGone, patient.AccessId, report.Id);
                await db.SaveChangesAsync(ct);
            }
            return new Result(Outcome.Gone);
        }
        ReportStore.OpenedFile? file;
        try
        {
            file = FileAvailable(report.Integrity) ? await store.OpenReadAsync(report.StoredFileName, ct) : null;
        }
        catch (ReportStore.UnavailableException)
        {
            // The object store is down, not the file gone: the same French 503 (« réessayez »), no file alert.
            if (to is Patient patient)
            {
                Audit.Patient(db, http, now, AccessEventKinds.FileMissing, patient.AccessId, report.Id, detail: "stockage des rapports injoignable");
                await db.SaveChangesAsync(ct);
            }
            return new Result(Outcome.Unavailable);
        }
        if (file is null)
        {
            await using var tx = await Alerts.BeginAsync(db, ct);
            if (to is Patient patient) Audit.Patient(db, http, now, AccessEventKinds.FileMissing, patient.AccessId, report.Id);
            await Alerts.RaiseAsync(db, AlertLevel.Critical, AlertKinds.ReportFile, $"rapport {report.Id}",
                $"Le fichier du rapport {report.Id} est introuvable ou altéré ; {Who(to)} n'a pas pu le télécharger.", now, ct);
            await db.SaveChangesAsync(ct);
            if (tx is not null) await tx.CommitAsync(ct);
            return new Result(Outcome.Unavailable);
        }

        http.Response.RegisterForDisposeAsync(file.Content);
        // A Binary resource always carries the whole file: the Range header is for the raw bytes.
        var delivery = form == Form.FhirBinary
            ? HttpMethods.IsGet(http.Request.Method) ? Delivery.FromStart : Delivery.Nothing
            : DeliveryOf(http.Request, file.Length, file.LastModified.UtcDateTime);
        if (delivery != Delivery.Nothing) await AccountAsync(http, report, to, delivery, now);

        http.Response.Headers.CacheControl = "no-store";
        if (form == Form.FhirBinary) return new Result(Outcome.Ok, await FhirJson.BinaryAsync(file, report.ContentType, ct));
        http.Response.Headers.ContentDisposition = ContentDisposition(report, inline: form == Form.Inline);
        return new Result(Outcome.Ok, new ReportResponse(file, report.ContentType));
    }

    /// <summary>Committed (group commit, one transaction with the count) before the bytes are sent.</summary>
    private Task AccountAsync(HttpContext http, PatientReport report, Recipient to, Delivery delivery, DateTime now)
    {
        var range = RangeDetail(http.Request);
        var fromStart = delivery == Delivery.FromStart;
        return to switch
        {
            Patient p => events.CommitAsync(Audit.PatientEvent(http, now, fromStart ? AccessEventKinds.Download : AccessEventKinds.DownloadPart,
                p.AccessId, report.Id, detail: range), countsDownloadOf: fromStart ? report.Id : null),
            Share s when fromStart => events.CommitAsync(Audit.PatientEvent(http, now, AccessEventKinds.ShareDownload, s.AccessId, report.Id, detail: s.ShareId)),
            Integration i => events.CommitAsync(Audit.StaffEntry(i.User, now, DownloadAction, "PatientReport", report.Id,
                "FHIR Binary" + (range is null ? "" : ", " + range)), countsDownloadOf: fromStart ? report.Id : null),
            _ => Task.CompletedTask,
        };
    }

    private static string Who(Recipient to) => to switch
    {
        Patient => "un patient",
        Share => "le destinataire d'un partage",
        Integration i => $"le compte {i.User.Identity?.Name} (FHIR)",
        _ => "un destinataire",
    };

    /// <summary>
    /// What the range-enabled file result will send for this request, decided the way ASP.NET Core's range
    /// handling decides it (RangeHelper): the header is ignored (whole file, 200) when it is repeated, holds
    /// several ranges, does not parse, or an If-Range date is older than the file; a range past the end is a
    /// 416 with no bytes; otherwise a 206 from the normalised start. Deciding before sending keeps the count
    /// and the record committed by the time the client has the bytes.
    /// </summary>
    public static Delivery DeliveryOf(HttpRequest request, long length, DateTime lastWriteUtc)
    {
        if (!HttpMethods.IsGet(request.Method)) return Delivery.Nothing;
        var raw = request.Headers.Range;
        if (raw.Count == 0 || length == 0) return Delivery.FromStart;
        if (raw.Count > 1 || (raw[0] ?? "").Contains(',')
            || !Microsoft.Net.Http.Headers.RangeHeaderValue.TryParse(raw[0], out var header) || header.Ranges.Count != 1)
            return Delivery.FromStart;
        var ifRange = request.GetTypedHeaders().IfRange;
        var lastModified = new DateTimeOffset(lastWriteUtc.Ticks - lastWriteUtc.Ticks % TimeSpan.TicksPerSecond, TimeSpan.Zero);
        if (ifRange?.LastModified is { } since && lastModified > since) return Delivery.FromStart;

        var range = header.Ranges.Single();
        long start;
        if (range.From is long from)
        {
            if (from >= length) return Delivery.Nothing;
            start = from;
        }
        else if (range.To is long suffix)
        {
            if (suffix == 0) return Delivery.Nothing;
            start = length - Math.Min(suffix, length);
        }
        else return Delivery.FromStart;
        return start == 0 ? Delivery.FromStart : Delivery.Continuation;
    }

    private static string? RangeDetail(HttpRequest request)
    {
        var range = request.Headers.Range.ToString();
        return range.Length == 0 ? null : "plage " + (range.Length <= 40 ? range : range[..40]);
    }

    /// <summary>RFC 6266 header: an ASCII fallback plus filename* in UTF-8.</summary>
    public string ContentDisposition(PatientReport report, bool inline)
    {
        var header = new Microsoft.Net.Http.Headers.ContentDispositionHeaderValue(inline ? "inline" : "attachment");
        header.SetHttpFileName(DownloadName(report));
        return header.ToString();
    }

    /// <summary>"Compte rendu IRM genou - 25-11-2026.pdf": the report's title and date, never the stored name.</summary>
    public string DownloadName(PatientReport report)
    {
        var ext = System.IO.Path.GetExtension(report.StoredFileName);
        var title = new string(report.Title.Select(c => char.IsControl(c) || "\\/:*?\"<>|".Contains(c) ? ' ' : c).ToArray()).Trim();
        if (title.Length > 80) title = title[..80].Trim();
        return $"{(title.Length == 0 ? "rapport" : title)} - {clock.ToLocal(report.CreatedAt):dd-MM-yyyy}{ext}";
    }
}
