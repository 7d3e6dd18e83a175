using System.Globalization;
using System.Text;
using Cimef.Site.Auditing;
using Cimef.Site.Data;
using Cimef.Site.Web;
using Dapper;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.EntityFrameworkCore;

namespace Cimef.Site.Pages.AuditPages;

/// <summary>Admin: the staff audit trail, filtered by person, action and date range; paginated; CSV export.</summary>
[Authorize(Policy = Policies.Admin)]
public class IndexModel(CimefDb db) : PageModel
{
    public const int PageSize = 50;
    public const int CsvMaxRows = 100_000;

    /// <summary>An audit line.</summary>
    public sealed record Row
    {
        public long Id { get; init; }
        public DateTime At { get; init; }
        public string UserName { get; init; } = "";
        public string Action { get; init; } = "";
        public string EntityType { get; init; } = "";
        public string? EntityId { get; init; }
        public string? Detail { get; init; }
    }

    [BindProperty(SupportsGet = true)] public string? Person { get; set; }
    [BindProperty(SupportsGet = true)] public string? Action { get; set; }
    [BindProperty(SupportsGet = true)] public DateOnly? From { get; set; }
    [BindProperty(SupportsGet = true)] public DateOnly? To { get; set; }
    [BindProperty(SupportsGet = true, Name = "p")] public int PageNumber { get; set; } = 1;

    public IReadOnlyList<string> People { get; private set; } = [];
    public IReadOnlyList<string> Actions { get; private set; } = [];
    public IReadOnlyList<Row> Rows { get; private set; } = [];
    public long Total { get; private set; }
    public bool HasNext => PageNumber * PageSize < Total;

    public async Task<IActionResult> OnGetAsync()
    {
        var conn = db.Database.GetDbConnection();
        People = (await conn.QueryAsync<string>("""SELECT DISTINCT "UserName" FROM "AuditEntries" ORDER BY "UserName" """)).ToList();
        Actions = (await conn.QueryAsync<string>("""SELECT DISTINCT "Action" FROM "AuditEntries" ORDER BY "Action" """)).ToList();
        if (PageNumber < 1) PageNumber = 1;
        if (Validate())
        {
            var (where, args) = Filter();
            Total = await conn.ExecuteScalarAsync<long>($"SELECT COUNT(*) FROM \"AuditEntries\" {where}", args);
            args.Add("take", PageSize);
            args.Add("skip", (PageNumber - 1) * PageSize);
            Rows = (await conn.QueryAsync<Row>(
                $"""SELECT "Id", "At", "UserName", "Action", "EntityType", "EntityId", "Detail" FROM "AuditEntries" {where} ORDER BY "At" DESC, "Id" DESC {SqlDialect.Of(db).Limit("@take", "@skip")}""", args))
                .ToList();
        }
        return this.PageOrPartial("_AuditRows");
    }

    public async Task<IActionResult> OnGetCsvAsync()
    {
        if (!Validate())
        {
            // The error page shows the filter's French message (a bad date, an inverted range).
            ErrorModel.Prepare(HttpContext, StatusCodes.Status400BadRequest,
                string.Join(" ", ModelState.Values.SelectMany(v => v.Errors).Select(e => e.ErrorMessage).Distinct()));
            return new StatusCodeResult(StatusCodes.Status400BadRequest);
        }
        var (where, args) = Filter();
        args.Add("take", CsvMaxRows);
        var rows = await db.Database.GetDbConnection().QueryAsync<Row>(
            $"""SELECT "Id", "At", "UserName", "Action", "EntityType", "EntityId", "Detail" FROM "AuditEntries" {where} ORDER BY "At" DESC, "Id" DESC {SqlDialect.Of(db).Limit("@take")}""", args);
        var csv = Csv.Build(["Date (UTC)", "Personne", "Action", "Objet", "Identifiant", "Détail"],
            rows.Select(r => new object?[] { r.At.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture), r.UserName, r.Action, r.EntityType, r.EntityId, r.Detail }));
        return Csv.File(csv, "journal-personnel.csv");
    }

    /// <summary>The current filters as a query string, for the pager and the CSV link.</summary>
    public string FilterUrl(int? page = null, string? handler = null)
    {
        var q = new Dictionary<string, string?>();
        if (handler is not null) q["handler"] = handler;
        if (!string.IsNullOrEmpty(Person)) q["person"] = Person;
        if (!string.IsNullOrEmpty(Action)) q["action"] = Action;
        if (From is not null) q["from"] = From.Value.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
        if (To is not null) q["to"] = To.Value.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
        if (page is > 1) q["p"] = page.Value.ToString(CultureInfo.InvariantCulture);
        return QueryHelpers.AddQueryString("/Audit", q);
    }

    private bool Validate()
    {
        if (From is not null && To is not null && From > To)
            ModelState.AddModelError(nameof(To), "La date de fin doit être postérieure ou égale à la date de début.");
        return ModelState.IsValid;
    }

    private (string Where, DynamicParameters Args) Filter()
    {
        var clauses = new List<string>();
        var args = new DynamicParameters();
        if (!string.IsNullOrEmpty(Person)) { clauses.Add("\"UserName\" = @person"); args.Add("person", Person); }
        if (!string.IsNullOrEmpty(Action)) { clauses.Add("\"Action\" = @action"); args.Add("action", Action); }
        if (From is not null) { clauses.Add("\"At\" >= @from"); args.Add("from", From.Value.ToDateTime(TimeOnly.MinValue, DateTimeKind.Utc)); }
        if (To is not null) { clauses.Add("\"At\" < @to"); args.Add("to", To.Value.AddDays(1).ToDateTime(TimeOnly.MinValue, DateTimeKind.Utc)); }
        var where = new StringBuilder();
        if (clauses.Count > 0) where.Append("WHERE ").AppendJoin(" AND ", clauses);
        return (where.ToString(), args);
    }
}
