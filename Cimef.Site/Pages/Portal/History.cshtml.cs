using Cimef.Site.Access;
using Cimef.Site.Auditing;
using Cimef.Site.Data;
using Cimef.Site.Data.Entities;
using Cimef.Site.Web;
using Dapper;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;
using Cimef.Site.Portal;
using Cimef.Site.Reports;

namespace Cimef.Site.Pages.Portal;

/// <summary>
/// « Historique de mon accès »: who used the session's patient's access in the last 12 months — their
/// logins (with a coarse device name), downloads, openings of their shared links, and the clinic's actions on their
/// credentials — newest first, <see cref="PageSize"/> per page. The staff history's events, filtered for what the
/// patient may see: no staff name, no address, no raw User-Agent. One indexed query (a union of the access's
/// events, the audit rows on the access, its sent credentials notifications and its creation); the owner comes
/// from the session only.
/// </summary>
public class HistoryModel(CimefDb db, ClinicClock clock, TimeProvider time) : PageModel
{
    public const int PageSize = 20;
    private const int MaxPage = 10_000;

    public sealed record Row(string When, string What);

    private sealed record Entry
    {
        public DateTime At { get; init; }
        public string Kind { get; init; } = "";
        public string? Detail { get; init; }
        public string? ReportTitle { get; init; }
        public string? Handover { get; init; }
        /// <summary>For a share opening or download: when the patient created that share.</summary>
        public DateTime? SharedAt { get; init; }
    }

    [BindProperty(SupportsGet = true, Name = "p")] public int PageNumber { get; set; } = 1;

    public IReadOnlyList<Row> Rows { get; private set; } = [];
    public bool HasNext { get; private set; }
    /// <summary>An htmx « Voir plus » request: the next rows and the next link only.</summary>
    public bool Fragment { get; private set; }

    public string PageUrl(int page) => PatientRoutes.HistoryPage(page);

    public async Task<IActionResult> OnGetAsync()
    {
        Response.Headers.CacheControl = "no-cache, no-store";
        PageNumber = Math.Clamp(PageNumber, 1, MaxPage);
        Fragment = Request.WantsFragment();
        var entries = await QueryAsync(User.AccessId(), User.PatientId());
        HasNext = entries.Count > PageSize;
        Rows = entries.Take(PageSize).Select(ToRow).Where(r => r is not null).Select(r => r!).ToList();
        return this.PageOrPartial("_HistoryRows");
    }

    private Row? ToRow(Entry e)
    {
        var handover = Enum.TryParse<CredentialHandoverKind>(e.Handover, out var h) ? h : (CredentialHandoverKind?)null;
        var what = Labels.PatientHistory(e.Kind, handover, e.ReportTitle, clock.ToLocal(e.SharedAt ?? e.At).ToString("dd/MM", Fr.Culture));
        if (what is null) return null;
        if (e.Kind == AccessEventKinds.LoginSuccess) what += " — " + Labels.Device(e.Detail);
        return new Row(clock.DateTime(e.At), what);
    }

    private async Task<List<Entry>> QueryAsync(int accessId, int patientId)
    {
        var args = new
        {
            access = accessId,
            accessText = accessId.ToString(System.Globalization.CultureInfo.InvariantCulture),
            patient = patientId,
            since = time.GetUtcNow().UtcDateTime.AddMonths(-12),
            login = AccessEventKinds.LoginSuccess,
            download = AccessEventKinds.Download,
            shareOpen = AccessEventKinds.ShareOpen,
            shareDownload = AccessEventKinds.ShareDownload,
            reveal = CredentialHandover.RevealAction,
            deactivate = "access.deactivate",
            activate = "access.activate",
            reactivate = "access.reactivate",
            regenerate = "access.regenerate",
            unlock = "access.unlock",
            recover = AccessProvisioning.RecoverAction,
            accessEntity = nameof(PatientAccess),
            credentials = nameof(OutboxKind.Credentials),
            sent = nameof(OutboxStatus.Sent),
            sms = nameof(OutboxChannel.Sms),
            credentialsSms = Labels.HistoryKinds.CredentialsSms,
            credentialsEmail = Labels.HistoryKinds.CredentialsEmail,
            created = Labels.HistoryKinds.AccessCreated,
            take = PageSize + 1,
            skip = (PageNumber - 1) * PageSize,
        };
        // Each branch is answered by an index: AccessEvents(PatientAccessId, At), AuditEntries(EntityType, EntityId, At),
        // OutboxMessages(PatientId), PatientAccesses' key. A report title is joined only if the report is this access's.
        var sql = $"""
            SELECT h."At", h."Kind", h."Detail", h."ReportTitle", h."SharedAt", h."Handover" FROM (
                SELECT e."At" AS "At", e."Kind" AS "Kind", e."UserAgent" AS "Detail", r."Title" AS "ReportTitle", s."CreatedAt" AS "SharedAt",
                       NULL AS "Handover", 0 AS "Source", e."Id" AS "Id"
                FROM "AccessEvents" e
                LEFT JOIN "PatientReports" r ON r."Id" = e."ReportId" AND r."PatientAccessId" = @access
                LEFT JOIN "ReportShares" s ON e."Kind" IN (@shareOpen, @shareDownload) AND s."PatientAccessId" = @access
                      AND CAST(s."Id" AS TEXT) = e."Detail"
                WHERE e."PatientAccessId" = @access AND e."At" >= @since
                  AND e."Kind" IN (@login, @download, @shareOpen, @shareDownload)
                UNION ALL
                SELECT a."At", a."Action", a."Detail", NULL, NULL, a."Handover", 1, a."Id"
                FROM "AuditEntries" a
                WHERE a."EntityType" = @accessEntity AND a."EntityId" = @accessText AND a."At" >= @since
                  AND a."Action" IN (@reveal, @deactivate, @activate, @reactivate, @regenerate, @unlock, @recover)
                UNION ALL
                SELECT o."SentAt", CASE WHEN o."Channel" = @sms THEN @credentialsSms ELSE @credentialsEmail END, NULL, NULL, NULL, NULL, 2, o."Id"
                FROM "OutboxMessages" o
                WHERE o."PatientId" = @patient AND o."Kind" = @credentials AND o."Status" = @sent AND o."SentAt" >= @since
                UNION ALL
                SELECT x."CreatedAt", @created, NULL, NULL, NULL, NULL, 3, x."Id"
                FROM "PatientAccesses" x
                WHERE x."Id" = @access AND x."CreatedAt" >= @since
            ) h
            ORDER BY h."At" DESC, h."Source", h."Id" DESC
            {SqlDialect.Of(db).Limit("@take", "@skip")}
            """;
        return (await db.Database.GetDbConnection().QueryAsync<Entry>(sql, args)).ToList();
    }
}
