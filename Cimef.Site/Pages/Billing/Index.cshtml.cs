using Cimef.Site.Data;
using Cimef.Site.Data.Entities;
using Cimef.Site.FrontDesk;
using Cimef.Site.Web;
using Dapper;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;

namespace Cimef.Site.Pages.Billing;

/// <summary>Billing: invoices, newest first, filtered by status and by number or patient name (htmx).</summary>
[Authorize(Policy = Policies.Billing)]
public class IndexModel(CimefDb db) : PageModel
{
    public const int PageSize = 30;

    public sealed record Row(long Id, string Number, string Status, DateTime CreatedAt, long Total, long Paid, long PatientId, string FullName)
    {
        public InvoiceStatus StatusValue => Enum.Parse<InvoiceStatus>(Status);
    }

    [BindProperty(SupportsGet = true, Name = "q")] public string? Q { get; set; }
    [BindProperty(SupportsGet = true, Name = "status")] public string? Status { get; set; }
    [BindProperty(SupportsGet = true, Name = "p")] public int PageNumber { get; set; } = 1;
    public IReadOnlyList<Row> Rows { get; private set; } = [];
    public bool HasNext { get; private set; }

    public async Task<IActionResult> OnGetAsync()
    {
        PageNumber = Math.Clamp(PageNumber, 1, 10_000);
        var connection = db.Database.GetDbConnection();
        var where = new List<string>();
        var args = new DynamicParameters(new { take = PageSize + 1, skip = (PageNumber - 1) * PageSize });
        if (Enum.TryParse<InvoiceStatus>(Status, out var status) && Enum.IsDefined(status))
        {
            where.Add("""i."Status" = @status""");
            args.Add("status", status.ToString());
        }
        var q = (Q ?? "").Trim();
        if (q.Length > 0)
        {
            args.Add("number", q.ToUpperInvariant());
            var name = await PatientSearch.NameConditionAsync(connection, q, args, HttpContext.RequestAborted);
            where.Add($"""({SqlDialect.Of(connection).StartsWith("i.\"Number\"", "@number")}{(name is null ? "" : " OR " + name)})""");
        }
        var sql = $"""
            SELECT i."Id", i."Number", i."Status", i."CreatedAt", i."Total",
                   COALESCE((SELECT SUM(y."Amount") FROM "Payments" y WHERE y."InvoiceId" = i."Id" AND y."ReversedAt" IS NULL), 0) AS "Paid",
                   p."Id" AS "PatientId", p."FullName"
            FROM "Invoices" i JOIN "Patients" p ON p."Id" = i."PatientId"
            {(where.Count > 0 ? "WHERE " + string.Join(" AND ", where) : "")}
            ORDER BY i."Id" DESC
            {SqlDialect.Of(connection).Limit("@take", "@skip")}
            """;
        var rows = (await connection.QueryAsync<Row>(sql, args)).ToList();
        HasNext = rows.Count > PageSize;
        Rows = rows.Take(PageSize).ToList();
        return this.PageOrPartial("_InvoiceRows");
    }

    public string PageUrl(int page) => $"/Billing?q={Uri.EscapeDataString(Q ?? "")}&status={Status}&p={page}";
}
