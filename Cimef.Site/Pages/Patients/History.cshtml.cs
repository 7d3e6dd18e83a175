using Cimef.Site.Data;
using Cimef.Site.Data.Entities;
using Cimef.Site.Web;
using Dapper;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;

namespace Cimef.Site.Pages.Patients;

/// <summary>
/// Front desk: a patient's portal history — connections, report views and downloads (paginated, htmx),
/// access count, last connection and downloads per report. Loaded into the patient page by htmx, or opened alone.
/// </summary>
[Authorize(Policy = Policies.FrontDesk)]
public class HistoryModel(CimefDb db) : PageModel
{
    public const int PageSize = 20;

    public sealed record EventRow
    {
        public long Id { get; init; }
        public DateTime At { get; init; }
        public string Kind { get; init; } = "";
        public long? ReportId { get; init; }
        public string? ReportTitle { get; init; }
        public string? ClientIp { get; init; }
        public string? UserAgent { get; init; }
    }

    public sealed record ReportRow
    {
        public long Id { get; init; }
        public string Title { get; init; } = "";
        public DateTime CreatedAt { get; init; }
        public long Downloads { get; init; }
        public DateTime? LastDownload { get; init; }
    }

    [BindProperty(SupportsGet = true, Name = "p")] public int PageNumber { get; set; } = 1;

    public int PatientId { get; private set; }
    public string PatientName { get; private set; } = "";
    public PatientAccess? Access { get; private set; }
    public long AccessCount { get; private set; }
    public DateTime? LastConnection { get; private set; }
    public IReadOnlyList<ReportRow> Reports { get; private set; } = [];
    public IReadOnlyList<EventRow> Events { get; private set; } = [];
    public long TotalEvents { get; private set; }
    public bool HasNext => PageNumber * PageSize < TotalEvents;

    public async Task<IActionResult> OnGetAsync(int id)
    {
        var patient = await db.Patients.AsNoTracking().Include(p => p.Access).SingleOrDefaultAsync(p => p.Id == id);
        if (patient is null) return NotFound();
        PatientId = patient.Id;
        PatientName = patient.FullName;
        Access = patient.Access;
        if (PageNumber < 1) PageNumber = 1;
        if (Access is not null) await LoadAsync(Access);
        return this.PageOrPartial("_History");
    }

    public string PageUrl(int page) => $"/Patients/History/{PatientId}?p={page}";

    private async Task LoadAsync(PatientAccess access)
    {
        var conn = db.Database.GetDbConnection();
        var args = new { access = access.Id, login = AccessEventKinds.LoginSuccess, download = AccessEventKinds.Download, take = PageSize, skip = (PageNumber - 1) * PageSize };

        // Events are pruned after the retention period; the access row keeps the lifetime count.
        var (logins, last) = await conn.QuerySingleAsync<(long, DateTime?)>(
            """SELECT COUNT(*), MAX("At") FROM "AccessEvents" WHERE "PatientAccessId" = @access AND "Kind" = @login""", args);
        AccessCount = Math.Max(access.AccessCount, logins);
        LastConnection = access.LastAccess is null ? last : last is null || access.LastAccess > last ? access.LastAccess : last;

        Reports = (await conn.QueryAsync<ReportRow>($"""
            SELECT r."Id", r."Title", r."CreatedAt",
                   {SqlDialect.Of(db).Greatest("r.\"DownloadCount\"", "COALESCE(d.\"N\", 0)")} AS "Downloads",
                   COALESCE(d."Last", r."LastDownloadAt") AS "LastDownload"
            FROM "PatientReports" r
            LEFT JOIN (SELECT "ReportId", COUNT(*) AS "N", MAX("At") AS "Last" FROM "AccessEvents"
                       WHERE "PatientAccessId" = @access AND "Kind" = @download GROUP BY "ReportId") AS d ON d."ReportId" = r."Id"
            WHERE r."PatientAccessId" = @access
            ORDER BY r."CreatedAt" DESC, r."Id" DESC
            """, args)).ToList();

        TotalEvents = await conn.ExecuteScalarAsync<long>("""SELECT COUNT(*) FROM "AccessEvents" WHERE "PatientAccessId" = @access""", args);
        Events = (await conn.QueryAsync<EventRow>($"""
            SELECT e."Id", e."At", e."Kind", e."ReportId", r."Title" AS "ReportTitle", e."ClientIp", e."UserAgent"
            FROM "AccessEvents" e LEFT JOIN "PatientReports" r ON r."Id" = e."ReportId"
            WHERE e."PatientAccessId" = @access
            ORDER BY e."At" DESC, e."Id" DESC {SqlDialect.Of(db).Limit("@take", "@skip")}
            """, args)).ToList();
    }
}
