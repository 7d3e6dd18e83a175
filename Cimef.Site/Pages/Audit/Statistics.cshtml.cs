using System.Text;
using Cimef.Site.Auditing;
using Cimef.Site.Data;
using Cimef.Site.Data.Entities;
using Cimef.Site.Web;
using Dapper;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;

namespace Cimef.Site.Pages.AuditPages;

/// <summary>
/// Admin: usage statistics over the last 30 or 90 days, from the daily rollups of AccessEvents for closed days
/// (<see cref="AccessEventRollups"/>) plus the raw events of the open day(s), reports, invoices and payments. Every chart has its numbers as a table and a CSV export.
/// Days are the clinic's days (Clinic:TimeZone), as at the cash desk.
/// </summary>
[Authorize(Policy = Policies.Admin)]
public class StatisticsModel(CimefDb db, ClinicClock clock, TimeProvider time, ClosedDays closedDays) : PageModel
{
    public static readonly int[] Periods = [30, 90];
    public const int Top = 10;
    private const int CsvTop = 1000;

    public static readonly string[] FrequencyBuckets = ["1 connexion", "2 à 5", "6 à 10", "Plus de 10"];

    public static readonly IReadOnlyDictionary<string, string> Tables = new Dictionary<string, string>
    {
        ["daily"] = "connexions-telechargements-par-jour",
        ["summary"] = "acces",
        ["reports"] = "telechargements-par-rapport",
        ["patients"] = "telechargements-par-patient",
        ["frequency"] = "frequence-utilisation",
        ["released"] = "rapports-publies-telecharges",
        ["billing"] = "factures-paiements-par-jour",
        ["methods"] = "paiements-par-mode",
    };

    public sealed record DayRow
    {
        public string Day { get; init; } = "";
        public long Logins { get; init; }
        public long Downloads { get; init; }
    }

    public sealed record TopRow
    {
        public long Id { get; init; }
        public string Label { get; init; } = "";
        public string? Patient { get; init; }
        public long Downloads { get; init; }
    }

    public sealed record BillingRow
    {
        public string Day { get; init; } = "";
        public long Invoices { get; init; }
        public long Invoiced { get; init; }
        public long Payments { get; init; }
        public long Paid { get; init; }
    }

    public sealed record MethodRow
    {
        public string Method { get; init; } = "";
        public long Payments { get; init; }
        public long Amount { get; init; }
    }

    [BindProperty(SupportsGet = true)] public int Days { get; set; } = 30;

    /// <summary>The first day shown, and the UTC instant it begins.</summary>
    public DateOnly FirstDay { get; private set; }
    public DateTime From { get; private set; }
    public IReadOnlyList<DayRow> Daily { get; private set; } = [];
    public long Logins => Daily.Sum(d => d.Logins);
    public long Downloads => Daily.Sum(d => d.Downloads);
    public long ActiveAccesses { get; private set; }
    public long TotalAccesses { get; private set; }
    public long PatientsWithLogin => Frequency.Sum();
    public IReadOnlyList<long> Frequency { get; private set; } = [0, 0, 0, 0];
    public IReadOnlyList<TopRow> TopReports { get; private set; } = [];
    public IReadOnlyList<TopRow> TopPatients { get; private set; } = [];
    public long Released { get; private set; }
    public long ReleasedDownloaded { get; private set; }
    public IReadOnlyList<BillingRow> Billing { get; private set; } = [];
    public IReadOnlyList<MethodRow> Methods { get; private set; } = [];

    public async Task OnGetAsync()
    {
        Normalise();
        await LoadAsync(Top);
    }

    public async Task<IActionResult> OnGetCsvAsync(string? table)
    {
        if (table is null || !Tables.TryGetValue(table, out var name)) return NotFound();
        Normalise();
        await LoadAsync(CsvTop);
        var (header, rows) = table switch
        {
            "daily" => (new[] { "Jour", "Connexions", "Téléchargements" },
                Daily.Select(d => new object?[] { d.Day, d.Logins, d.Downloads })),
            "summary" => (["Indicateur", "Valeur"],
                new[]
                {
                    new object?[] { "Accès actifs", ActiveAccesses },
                    ["Accès au total", TotalAccesses],
                    ["Patients connectés au moins une fois", PatientsWithLogin],
                    ["Connexions", Logins],
                    ["Téléchargements", Downloads],
                }),
            "reports" => (["Rapport", "Titre", "Patient", "Téléchargements"],
                TopReports.Select(r => new object?[] { r.Id, r.Label, r.Patient, r.Downloads })),
            "patients" => (["Accès", "Patient", "Téléchargements"],
                TopPatients.Select(r => new object?[] { r.Id, r.Label, r.Downloads })),
            "frequency" => (["Connexions par patient", "Patients"],
                FrequencyBuckets.Select((b, i) => new object?[] { b, Frequency[i] })),
            "released" => (["Indicateur", "Rapports"],
                new[]
                {
                    new object?[] { "Mis à disposition", Released },
                    ["Téléchargés au moins une fois", ReleasedDownloaded],
                    ["Jamais téléchargés", Released - ReleasedDownloaded],
                }),
            "billing" => (["Jour", "Factures", "Montant facturé (FCFA)", "Paiements", "Montant encaissé (FCFA)"],
                Billing.Select(b => new object?[] { b.Day, b.Invoices, b.Invoiced, b.Payments, b.Paid })),
            _ => (["Mode de paiement", "Paiements", "Montant (FCFA)"],
                Methods.Select(m => new object?[] { MethodName(m.Method), m.Payments, m.Amount })),
        };
        return Csv.File(Csv.Build(header, rows), $"statistiques-{name}-{Days}j.csv");
    }

    public static string MethodName(string method) =>
        Enum.TryParse<PaymentMethod>(method, out var m) ? PaymentMethods.French(m) : method;

    public Charts.Chart DailyChart() => Charts.Columns("daily", $"Connexions et téléchargements par jour ({Days} jours)",
        Daily.Select(d => d.Day).ToList(),
        [new("Connexions", "bar", Daily.Select(d => d.Logins).ToList()), new("Téléchargements", "bar2", Daily.Select(d => d.Downloads).ToList())]);

    public Charts.Chart BillingChart() => Charts.Columns("billing", $"Factures et paiements par jour ({Days} jours)",
        Billing.Select(d => d.Day).ToList(),
        [new("Factures", "bar", Billing.Select(d => d.Invoices).ToList()), new("Paiements", "bar2", Billing.Select(d => d.Payments).ToList())]);

    private void Normalise()
    {
        if (!Periods.Contains(Days)) Days = Periods[0];
        FirstDay = clock.Today.AddDays(-(Days - 1));
        From = clock.DayStartUtc(FirstDay);
    }

    private async Task LoadAsync(int top)
    {
        var conn = db.Database.GetDbConnection();
        var p = new { from = From, top, login = AccessEventKinds.LoginSuccess, download = AccessEventKinds.Download };

        // Closed days come from the daily rollups (filled here on first need); only the open day(s) — today, and
        // yesterday during the rollup grace — are counted from raw events, with one index range count per day and kind.
        var open = await AccessEventRollups.EnsureAsync(db, clock, FirstDay, time.GetUtcNow().UtcDateTime, HttpContext.RequestAborted);
        var openFrom = clock.DayStartUtc(open);
        var days = EachDay().ToList();
        var closed = await closedDays.GetAsync(conn, FirstDay, open);
        var rolled = closed.Rolled;
        var openDays = days.Count(d => string.CompareOrdinal(d, ClosedDays.DayKey(open)) >= 0);
        var sql = new StringBuilder();
        var args = new DynamicParameters(new { login = AccessEventKinds.LoginSuccess, download = AccessEventKinds.Download });
        var firstOpen = days.Count - openDays;
        for (var i = firstOpen; i <= days.Count; i++) args.Add($"d{i}", clock.DayStartUtc(FirstDay.AddDays(i)));
        for (var i = firstOpen; i < days.Count; i++)
        {
            if (i > firstOpen) sql.Append(" UNION ALL ");
            sql.Append($"SELECT CAST({i} AS BIGINT) AS \"I\", ")
               .Append($"(SELECT COUNT(*) FROM \"AccessEvents\" WHERE \"Kind\" = @login AND \"At\" >= @d{i} AND \"At\" < @d{i + 1}), ")
               .Append($"(SELECT COUNT(*) FROM \"AccessEvents\" WHERE \"Kind\" = @download AND \"At\" >= @d{i} AND \"At\" < @d{i + 1})");
        }
        var counts = sql.Length == 0 ? [] : (await conn.QueryAsync<(long I, long Logins, long Downloads)>(sql.ToString(), args)).ToDictionary(x => x.I);
        Daily = days.Select((d, i) => counts.TryGetValue(i, out var c)
            ? new DayRow { Day = d, Logins = c.Logins, Downloads = c.Downloads }
            : new DayRow { Day = d, Logins = rolled.GetValueOrDefault((d, AccessEventKinds.LoginSuccess)), Downloads = rolled.GetValueOrDefault((d, AccessEventKinds.Download)) })
            .ToList();

        (ActiveAccesses, TotalAccesses) = await conn.QuerySingleAsync<(long, long)>(
            """SELECT COUNT(CASE WHEN "IsActive" = @active THEN 1 END), COUNT(*) FROM "PatientAccesses" """, new { active = true });

        // Per access and per report: the closed days' sums (read once a day, ClosedDays) plus the raw events since the
        // open day, merged as they are read: the closed days' tables are never copied (a view of 90 days used
        // to allocate ~10 MB of copies and groupings, most of it on the large-object heap).
        var q = new { openFrom, login = AccessEventKinds.LoginSuccess, download = AccessEventKinds.Download };
        var openLogins = (await conn.QueryAsync<(long Access, long N)>("""
            SELECT CAST("PatientAccessId" AS BIGINT), COUNT(*) FROM "AccessEvents"
            WHERE "Kind" = @login AND "At" >= @openFrom AND "PatientAccessId" IS NOT NULL GROUP BY "PatientAccessId"
            """, q)).ToDictionary(x => x.Access, x => x.N);
        var frequency = new long[FrequencyBuckets.Length];
        static int Bucket(long n) => n switch { 1 => 0, <= 5 => 1, <= 10 => 2, _ => 3 };
        foreach (var (access, n) in closed.LoginsPerAccess) frequency[Bucket(n + openLogins.GetValueOrDefault(access))]++;
        foreach (var (access, n) in openLogins) if (!closed.LoginsPerAccess.ContainsKey(access)) frequency[Bucket(n)]++;
        Frequency = frequency.ToList();

        var openReports = new Dictionary<long, long>();
        var openAccesses = new Dictionary<long, long>();
        foreach (var (a, r, n) in await conn.QueryAsync<(long Access, long Report, long N)>("""
            SELECT CAST(COALESCE("PatientAccessId", 0) AS BIGINT), CAST(COALESCE("ReportId", 0) AS BIGINT), COUNT(*) FROM "AccessEvents"
            WHERE "Kind" = @download AND "At" >= @openFrom GROUP BY 1, 2
            """, q))
        {
            if (r != 0) openReports[r] = openReports.GetValueOrDefault(r) + n;
            if (a != 0) openAccesses[a] = openAccesses.GetValueOrDefault(a) + n;
        }
        var perReport = Ranked(closed.DownloadsPerReport, openReports, top);
        var perAccess = Ranked(closed.DownloadsPerAccess, openAccesses, top);

        var reportNames = (await conn.QueryAsync<(long Id, string Title, string? Patient)>($"""
            SELECT CAST(r."Id" AS BIGINT), r."Title", pt."FullName" FROM "PatientReports" r
            LEFT JOIN "PatientAccesses" a ON a."Id" = r."PatientAccessId"
            LEFT JOIN "Patients" pt ON pt."Id" = a."PatientId"
            WHERE {SqlDialect.Of(db).InList("r.\"Id\"", "@ids")}
            """, new { ids = perReport.Select(x => (int)x.Id).ToList() })).ToDictionary(x => x.Id);
        TopReports = perReport.Select(x => reportNames.TryGetValue(x.Id, out var n)
            ? new TopRow { Id = x.Id, Label = n.Title, Patient = n.Patient, Downloads = x.N }
            : new TopRow { Id = x.Id, Label = $"Rapport {x.Id}", Downloads = x.N }).ToList();

        var patientNames = (await conn.QueryAsync<(long Id, string Name)>($"""
            SELECT CAST(a."Id" AS BIGINT), pt."FullName" FROM "PatientAccesses" a JOIN "Patients" pt ON pt."Id" = a."PatientId" WHERE {SqlDialect.Of(db).InList("a.\"Id\"", "@ids")}
            """, new { ids = perAccess.Select(x => (int)x.Id).ToList() })).ToDictionary(x => x.Id, x => x.Name);
        TopPatients = perAccess.Select(x => new TopRow
        {
            Id = x.Id, Label = patientNames.GetValueOrDefault(x.Id) ?? $"Accès {x.Id}", Patient = patientNames.GetValueOrDefault(x.Id), Downloads = x.N,
        }).ToList();

        var released = (await conn.QueryAsync<long>("""SELECT CAST("Id" AS BIGINT) FROM "PatientReports" WHERE "CreatedAt" >= @from""", p)).ToList();
        Released = released.Count;
        ReleasedDownloaded = released.Count(id => closed.DownloadsPerReport.ContainsKey(id) || openReports.ContainsKey(id));

        // Grouped by clinic day here, not in SQL, whose day of a stored timestamp is the UTC day.
        var invoices = await db.Invoices.AsNoTracking()
            .Where(i => (i.Status == InvoiceStatus.Sent || i.Status == InvoiceStatus.Paid) && (i.IssuedAt ?? i.CreatedAt) >= From)
            .Select(i => new { At = i.IssuedAt ?? i.CreatedAt, i.Total }).ToListAsync();
        var payments = await db.Payments.AsNoTracking().Where(x => x.ReversedAt == null && x.At >= From)
            .Select(x => new { x.At, x.Amount }).ToListAsync();
        var billing = invoices.Select(i => (Day: ClosedDays.DayKey(clock.DayOf(i.At)), Invoices: 1, Invoiced: i.Total, Payments: 0, Paid: 0))
            .Concat(payments.Select(x => (Day: ClosedDays.DayKey(clock.DayOf(x.At)), Invoices: 0, Invoiced: 0, Payments: 1, Paid: x.Amount)))
            .GroupBy(x => x.Day)
            .ToDictionary(g => g.Key, g => new BillingRow
            {
                Day = g.Key, Invoices = g.Sum(x => x.Invoices), Invoiced = g.Sum(x => (long)x.Invoiced),
                Payments = g.Sum(x => x.Payments), Paid = g.Sum(x => (long)x.Paid),
            });
        Billing = EachDay().Select(d => billing.GetValueOrDefault(d) ?? new BillingRow { Day = d }).ToList();

        Methods = (await conn.QueryAsync<MethodRow>("""
            SELECT "Method", COUNT(*) AS "Payments", CAST(SUM("Amount") AS BIGINT) AS "Amount" FROM "Payments"
            WHERE "ReversedAt" IS NULL AND "At" >= @from
            GROUP BY "Method" ORDER BY 3 DESC, "Method"
            """, p)).ToList();
    }

    /// <summary>The <paramref name="top"/> largest closed + open sums (most downloads first, then the smaller id), kept in a heap of that size.</summary>
    internal static List<(long Id, long N)> Ranked(IReadOnlyDictionary<long, long> closed, IReadOnlyDictionary<long, long> open, int top)
    {
        // Min-heap on (N, -Id): its root is the row the next better one replaces.
        var heap = new PriorityQueue<(long Id, long N), (long N, long NegId)>(top + 1);
        void Offer(long id, long n)
        {
            if (heap.Count < top) heap.Enqueue((id, n), (n, -id));
            else if (heap.TryPeek(out _, out var least) && (n, -id).CompareTo(least) > 0) heap.EnqueueDequeue((id, n), (n, -id));
        }
        foreach (var (id, n) in closed) Offer(id, n + open.GetValueOrDefault(id));
        foreach (var (id, n) in open) if (!closed.ContainsKey(id)) Offer(id, n);
        var ranked = new List<(long Id, long N)>(heap.Count);
        while (heap.TryDequeue(out var row, out _)) ranked.Add(row);
        ranked.Reverse();
        return ranked;
    }

    private IEnumerable<string> EachDay() => Enumerable.Range(0, Days).Select(i => ClosedDays.DayKey(FirstDay.AddDays(i)));
}
