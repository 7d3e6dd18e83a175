using System.Globalization;
using Cimef.Site.Auditing;
using Cimef.Site.Data;
using Cimef.Site.Data.Entities;
using Cimef.Site.FrontDesk;
using Cimef.Site.Reports;
using Cimef.Site.Storage;
using Cimef.Site.Web;
using Hl7.Fhir.Model;
using Microsoft.AspNetCore.Authentication;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Task = System.Threading.Tasks.Task;
using Patient = Cimef.Site.Data.Entities.Patient;

namespace Cimef.Site.Fhir;

/// <summary>
/// FHIR R4 API under /fhir: Bearer API tokens of Integration or Admin accounts only (a staff or patient
/// cookie is ignored, so there is no CSRF surface); the CapabilityStatement is public, as FHIR clients read it first.
/// Searches answer a searchset Bundle with _count (default 20, max 100) and an _offset next link; unknown
/// parameters are ignored, malformed ones are a 400 OperationOutcome, and a Patient or report search needs at least
/// one criterion (no dump of the whole clinic in one loop over pages). Every read and search is audited
/// (<see cref="FhirAudit"/>). Every answer under /fhir, errors included, is FHIR JSON: an unknown resource type is a
/// 404 and an interaction the server does not offer a 405, both OperationOutcomes. Absolute URLs come from
/// Portal:Url's origin, never from the request's Host header.
/// </summary>
public static class FhirApi
{
    public const int DefaultCount = 20;
    public const int MaxCount = 100;

    public static IServiceCollection AddFhir(this IServiceCollection services) => services.AddScoped<FhirPush>();

    public static void MapFhirApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/fhir/metadata", Capability);
        var fhir = app.MapGroup("/fhir").AddEndpointFilter(BearerOnly);
        fhir.MapGet("/Patient/{id}", ReadPatientAsync);
        fhir.MapGet("/Patient", SearchPatientsAsync);
        fhir.MapGet("/DiagnosticReport/{id}", ReadDiagnosticReportAsync);
        fhir.MapGet("/DocumentReference/{id}", ReadDocumentReferenceAsync);
        fhir.MapGet("/DiagnosticReport", SearchDiagnosticReportsAsync);
        fhir.MapGet("/DocumentReference", SearchDocumentReferencesAsync);
        fhir.MapMethods("/Binary/{id}", [HttpMethods.Get, HttpMethods.Head], ReadBinaryAsync);
        Imaging.ImagingFhir.Map(fhir); // ImagingStudy, when the PACS is configured
        fhir.MapPost("/DiagnosticReport", CreateDiagnosticReportAsync);
        fhir.MapPost("/DocumentReference", CreateDocumentReferenceAsync);
        fhir.MapFallback("/{**rest}", Unsupported);
    }

    /// <summary>The resource types served here, and the methods their type-level and instance-level routes accept.</summary>
    private static readonly Dictionary<string, (string Type, string Instance)> Served = new(StringComparer.Ordinal)
    {
        ["metadata"] = ("GET", ""),
        ["Patient"] = ("GET", "GET"),
        ["DiagnosticReport"] = ("GET, POST", "GET"),
        ["DocumentReference"] = ("GET, POST", "GET"),
        ["Binary"] = ("", "GET, HEAD"),
    };

    /// <summary>Whatever no route takes: an unknown resource type or operation (404), or an interaction this server does not offer (405).</summary>
    private static IResult Unsupported(HttpContext http, string? rest)
    {
        var segments = (rest ?? "").Split('/', StringSplitOptions.RemoveEmptyEntries);
        var type = segments.FirstOrDefault() ?? "";
        if (!Served.TryGetValue(type, out var allowed))
            return FhirJson.Outcome(StatusCodes.Status404NotFound,
                $"Type de ressource non pris en charge : « {Truncate(type)} » (pris en charge : Patient, DiagnosticReport, DocumentReference, Binary).",
                OperationOutcome.IssueType.NotSupported);
        if (segments.Contains("_history"))
            return FhirJson.Outcome(StatusCodes.Status404NotFound, "L'historique des versions (_history) n'est pas pris en charge.", OperationOutcome.IssueType.NotSupported);
        if (segments.Length > 2 || (segments.Length == 2 && allowed.Instance.Length == 0))
            return FhirJson.Outcome(StatusCodes.Status404NotFound, $"Opération non prise en charge : « {Truncate(rest)} ».", OperationOutcome.IssueType.NotSupported);
        http.Response.Headers.Allow = segments.Length == 1 ? allowed.Type : allowed.Instance;
        return FhirJson.Outcome(StatusCodes.Status405MethodNotAllowed,
            $"Interaction non prise en charge : {http.Request.Method} /fhir/{Truncate(rest)} (lecture et recherche ; création de DiagnosticReport et DocumentReference seulement).",
            OperationOutcome.IssueType.NotSupported);
    }

    /// <summary>Portal:Url's origin: absolute URLs never come from the request's Host header, which the client chooses.</summary>
    public static string Origin(HttpRequest r) =>
        new Uri(r.HttpContext.RequestServices.GetRequiredService<IOptions<PortalOptions>>().Value.Url).GetLeftPart(UriPartial.Authority);

    public static string BaseUrl(HttpRequest r) => Origin(r) + "/fhir";

    /// <summary>Only a Bearer token counts here (never a cookie); Integration or Admin, else 401/403 (the refusal is audited).</summary>
    private static async ValueTask<object?> BearerOnly(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        var auth = await http.AuthenticateAsync(AuthSchemes.ApiToken);
        if (!auth.Succeeded)
        {
            http.Response.Headers.WWWAuthenticate = "Bearer";
            return FhirJson.Outcome(StatusCodes.Status401Unauthorized,
                "Authentification requise : envoyez un jeton d'API valide (Authorization: Bearer …).", OperationOutcome.IssueType.Login);
        }
        var user = auth.Principal;
        if (!user.IsInRole(Roles.Integration) && !user.IsInRole(Roles.Admin))
        {
            var db = http.RequestServices.GetRequiredService<CimefDb>();
            Audit.Staff(db, user, http.RequestServices.GetRequiredService<TimeProvider>().GetUtcNow().UtcDateTime,
                "authz.forbidden", "Path", null, $"{http.Request.Method} {http.Request.Path}");
            await db.SaveChangesAsync(http.RequestAborted);
            return FhirJson.Outcome(StatusCodes.Status403Forbidden,
                "Accès refusé : l'API FHIR est réservée aux comptes Intégration et Administrateur.", OperationOutcome.IssueType.Forbidden);
        }
        http.User = user;
        return await next(context);
    }

    private static IResult Capability(HttpContext http, TimeProvider time, IOptions<ClinicOptions> clinic)
    {
        static CapabilityStatement.SearchParamComponent Param(string name, SearchParamType type) => new() { Name = name, Type = type };
        static CapabilityStatement.ResourceInteractionComponent Do(CapabilityStatement.TypeRestfulInteraction i) => new() { Code = i };
        var read = Do(CapabilityStatement.TypeRestfulInteraction.Read);
        var search = Do(CapabilityStatement.TypeRestfulInteraction.SearchType);
        var create = Do(CapabilityStatement.TypeRestfulInteraction.Create);
        List<CapabilityStatement.SearchParamComponent> ReportSearch() =>
            [Param("_id", SearchParamType.Token), Param("patient", SearchParamType.Reference), Param("subject", SearchParamType.Reference),
             Param("date", SearchParamType.Date), Param("identifier", SearchParamType.Token)];
        var statement = new CapabilityStatement
        {
            Status = PublicationStatus.Active,
            Date = time.GetUtcNow().ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
            Publisher = clinic.Value.Name,
            Kind = CapabilityStatementKind.Instance,
            Software = new CapabilityStatement.SoftwareComponent { Name = "CIMEF Portal" },
            Implementation = new CapabilityStatement.ImplementationComponent { Description = "Résultats d'imagerie de " + clinic.Value.Name, Url = BaseUrl(http.Request) },
            FhirVersion = FHIRVersion.N4_0_1,
            Format = ["application/fhir+json"],
            Rest =
            [
                new CapabilityStatement.RestComponent
                {
                    Mode = CapabilityStatement.RestfulCapabilityMode.Server,
                    Security = new CapabilityStatement.SecurityComponent { Description = "Jeton d'API (Authorization: Bearer) d'un compte Intégration ou Administrateur." },
                    Resource =
                    [
                        new() { Type = "Patient", Interaction = [read, search],
                            SearchParam = [Param("_id", SearchParamType.Token), Param("identifier", SearchParamType.Token), Param("phone", SearchParamType.Token), Param("name", SearchParamType.String)] },
                        new() { Type = "DiagnosticReport", Interaction = [read, search, create], ConditionalCreate = true, SearchParam = ReportSearch() },
                        new() { Type = "DocumentReference", Interaction = [read, search, create], ConditionalCreate = true, SearchParam = ReportSearch() },
                        new() { Type = "Binary", Interaction = [read] },
                        .. Imaging.ImagingFhir.Capability(http.RequestServices) is { } imaging ? [imaging] : Array.Empty<CapabilityStatement.ResourceComponent>(),
                    ],
                },
            ],
        };
        return FhirJson.Resource(statement);
    }

    private static async Task<IResult> ReadPatientAsync(HttpContext http, string id, CimefDb db, CancellationToken ct)
    {
        var patient = ParseId(id) is int pid ? await db.Patients.AsNoTracking().SingleOrDefaultAsync(p => p.Id == pid, ct) : null;
        FhirAudit.Read(http, "Patient", id, patient is null ? 0 : 1);
        return patient is null ? FhirJson.NotFound($"Patient/{Truncate(id)} introuvable.") : FhirJson.Resource(FhirResources.Patient(patient));
    }

    private static async Task<IResult> SearchPatientsAsync(HttpContext http, CimefDb db, CancellationToken ct)
    {
        var query = http.Request.Query;
        if (Paging(query) is not { } paging) return FhirJson.BadRequest(PagingError);
        if (!HasCriterion(query, PatientCriteria)) return FhirJson.BadRequest(NoCriterion("Patient", PatientCriteria));
        IQueryable<Patient> patients = db.Patients.AsNoTracking();
        foreach (var value in query["_id"])
        {
            if (ParseId(value) is not int pid) return FhirJson.BadRequest($"Paramètre _id invalide : « {Truncate(value)} ».");
            patients = patients.Where(p => p.Id == pid);
        }
        foreach (var value in query["identifier"])
        {
            var (system, code) = Token(value);
            if ((system is not null && system != FhirResources.PatientIdSystem) || ParseId(code) is not int pid)
                return FhirJson.BadRequest($"Paramètre identifier invalide : « {Truncate(value)} » (attendu : {FhirResources.PatientIdSystem}|numéro du patient).");
            patients = patients.Where(p => p.Id == pid);
        }
        foreach (var value in query["phone"])
        {
            if (Phones.Normalize(value) is not string phone) return FhirJson.BadRequest($"Paramètre phone invalide : « {Truncate(value)} ».");
            patients = patients.Where(p => p.Phone == phone);
        }
        foreach (var value in query["name"])
        {
            var name = Text.SearchForm(value ?? "");
            if (name.Length == 0) return FhirJson.BadRequest("Paramètre name vide.");
            patients = patients.Where(p => p.SearchName.Contains(name));
        }
        var total = await patients.CountAsync(ct);
        var page = await patients.OrderBy(p => p.Id).Skip(paging.Offset).Take(paging.Count).ToListAsync(ct);
        FhirAudit.Search(http, "Patient", page.Count);
        var baseUrl = BaseUrl(http.Request);
        return FhirJson.Resource(Searchset(http.Request, paging, total, page.Select(p => ((Resource)FhirResources.Patient(p), $"{baseUrl}/Patient/{p.Id}"))));
    }

    // A report is served as two resource types (DiagnosticReport, DocumentReference) by one implementation each for
    // read, search and create; these handlers only fix which type the route answers.
    private static Task<IResult> ReadDiagnosticReportAsync(HttpContext http, string id, CimefDb db, ReportStore store, IOptions<ClinicOptions> clinic, CancellationToken ct) =>
        ReadReportAsync(http, id, asDocument: false, db, store, clinic.Value, ct);

    private static Task<IResult> ReadDocumentReferenceAsync(HttpContext http, string id, CimefDb db, ReportStore store, IOptions<ClinicOptions> clinic, CancellationToken ct) =>
        ReadReportAsync(http, id, asDocument: true, db, store, clinic.Value, ct);

    private static Task<IResult> SearchDiagnosticReportsAsync(HttpContext http, CimefDb db, ReportStore store, IOptions<ClinicOptions> clinic, CancellationToken ct) =>
        SearchReportsAsync(http, asDocument: false, db, store, clinic.Value, ct);

    private static Task<IResult> SearchDocumentReferencesAsync(HttpContext http, CimefDb db, ReportStore store, IOptions<ClinicOptions> clinic, CancellationToken ct) =>
        SearchReportsAsync(http, asDocument: true, db, store, clinic.Value, ct);

    private static Task<IResult> CreateDiagnosticReportAsync(HttpContext http, FhirPush push) => push.CreateAsync(http, asDocument: false);

    private static Task<IResult> CreateDocumentReferenceAsync(HttpContext http, FhirPush push) => push.CreateAsync(http, asDocument: true);

    private static async Task<IResult> ReadReportAsync(HttpContext http, string id, bool asDocument, CimefDb db, ReportStore store, ClinicOptions clinic, CancellationToken ct)
    {
        var kind = asDocument ? "DocumentReference" : "DiagnosticReport";
        var report = ParseId(id) is int rid ? await FhirResources.Reports(db).SingleOrDefaultAsync(r => r.Id == rid, ct) : null;
        FhirAudit.Read(http, kind, id, report is null ? 0 : 1);
        if (report is null) return FhirJson.NotFound($"{kind}/{Truncate(id)} introuvable.");
        await FhirResources.FillSha1Async(db, store, [report], ct);
        var baseUrl = BaseUrl(http.Request);
        var studies = asDocument ? null : await Imaging.ImagingFhir.ByInvoiceAsync(http, db, [report.InvoiceId], ct);
        return FhirJson.Resource(asDocument ? FhirResources.DocumentReference(report, baseUrl, clinic.Name)
            : FhirResources.DiagnosticReport(report, baseUrl, clinic.Name, studies?[report.InvoiceId]));
    }

    private static async Task<IResult> SearchReportsAsync(HttpContext http, bool asDocument, CimefDb db, ReportStore store, ClinicOptions clinic, CancellationToken ct)
    {
        var query = http.Request.Query;
        if (Paging(query) is not { } paging) return FhirJson.BadRequest(PagingError);
        var kind = asDocument ? "DocumentReference" : "DiagnosticReport";
        if (!HasCriterion(query, ReportCriteria)) return FhirJson.BadRequest(NoCriterion(kind, ReportCriteria));
        var reports = FhirResources.Reports(db);
        foreach (var value in query["_id"])
        {
            if (ParseId(value) is not int rid) return FhirJson.BadRequest($"Paramètre _id invalide : « {Truncate(value)} ».");
            reports = reports.Where(r => r.Id == rid);
        }
        foreach (var name in new[] { "patient", "subject" })
            foreach (var value in query[name])
            {
                var text = value ?? "";
                if (text.StartsWith("Patient/", StringComparison.Ordinal)) text = text["Patient/".Length..];
                if (ParseId(text) is not int pid) return FhirJson.BadRequest($"Paramètre {name} invalide : « {Truncate(value)} » (attendu : un numéro de patient).");
                reports = reports.Where(r => r.PatientAccess.PatientId == pid);
            }
        foreach (var value in query["identifier"])
        {
            var (system, code) = Token(value);
            if (code.Length == 0) return FhirJson.BadRequest($"Paramètre identifier invalide : « {Truncate(value)} ».");
            reports = system is null
                ? reports.Where(r => r.IdentifierValue == code)
                : reports.Where(r => r.IdentifierSystem == system && r.IdentifierValue == code);
        }
        foreach (var value in query["date"])
        {
            if (FhirDates.Parse(value) is not { } range)
                return FhirJson.BadRequest($"Paramètre date invalide : « {Truncate(value)} » (exemple : ge2026-11-01 ; années {FhirDates.FirstYear} à {FhirDates.LastYear}).");
            if (range.From is DateTime from) reports = reports.Where(r => r.CreatedAt >= from);
            if (range.Before is DateTime before) reports = reports.Where(r => r.CreatedAt < before);
        }
        var total = await reports.CountAsync(ct);
        var page = await reports.OrderByDescending(r => r.CreatedAt).ThenByDescending(r => r.Id).Skip(paging.Offset).Take(paging.Count).ToListAsync(ct);
        await FhirResources.FillSha1Async(db, store, page, ct);
        FhirAudit.Search(http, kind, page.Count);
        var baseUrl = BaseUrl(http.Request);
        var studies = asDocument ? null : await Imaging.ImagingFhir.ByInvoiceAsync(http, db, page.Select(r => r.InvoiceId).Distinct().ToList(), ct);
        return FhirJson.Resource(Searchset(http.Request, paging, total, page.Select(r => (
            asDocument ? (Resource)FhirResources.DocumentReference(r, baseUrl, clinic.Name) : FhirResources.DiagnosticReport(r, baseUrl, clinic.Name, studies?[r.InvoiceId]),
            $"{baseUrl}/{kind}/{r.Id}"))));
    }

    /// <summary>
    /// The report's file by the rules every delivery path follows (<see cref="ReportDelivery"/>: withdrawn or expired =
    /// 410, file missing = 503 and an alert; delivered bytes audited under the token's account, a GET from byte 0
    /// counted as a download). A client that asks for FHIR JSON (Accept: application/fhir+json) gets a Binary resource
    /// (contentType + base64 data), any other the raw bytes, range supported.
    /// </summary>
    private static async Task<IResult> ReadBinaryAsync(HttpContext http, string id, CimefDb db, ReportDelivery delivery, CancellationToken ct)
    {
        var report = ParseId(id) is int rid ? await db.PatientReports.AsNoTracking().SingleOrDefaultAsync(r => r.Id == rid, ct) : null;
        if (report is null)
        {
            FhirAudit.Read(http, "Binary", id, 0);
            return FhirJson.NotFound($"Binary/{Truncate(id)} introuvable.");
        }
        var form = WantsResource(http.Request) ? ReportDelivery.Form.FhirBinary : ReportDelivery.Form.Attachment;
        var result = await delivery.ServeAsync(http, report, new ReportDelivery.Integration(http.User), form, ct);
        if (result.Outcome != ReportDelivery.Outcome.Ok) FhirAudit.Read(http, "Binary", id, 0);
        return result.Outcome switch
        {
            ReportDelivery.Outcome.Ok => result.Response!,
            ReportDelivery.Outcome.Gone => FhirJson.Outcome(StatusCodes.Status410Gone,
                "Ce rapport a été retiré ou a expiré : son fichier n'est plus disponible.", OperationOutcome.IssueType.Deleted),
            _ => FhirJson.Outcome(StatusCodes.Status503ServiceUnavailable, "Le fichier de ce rapport est momentanément indisponible.", OperationOutcome.IssueType.Transient),
        };
    }

    /// <summary>FHIR JSON asked for by Accept or _format: the Binary resource rather than the raw bytes.</summary>
    private static bool WantsResource(HttpRequest request)
    {
        static bool Fhir(string? type) => type is not null
            && (type.StartsWith("application/fhir+json", StringComparison.OrdinalIgnoreCase) || type.StartsWith("application/json+fhir", StringComparison.OrdinalIgnoreCase)
                || type.Equals("json", StringComparison.OrdinalIgnoreCase));
        return request.Query["_format"].Any(Fhir) || request.GetTypedHeaders().Accept.Any(a => Fhir(a.MediaType.Value));
    }

    private static readonly string[] PatientCriteria = ["_id", "identifier", "phone", "name"];
    private static readonly string[] ReportCriteria = ["_id", "patient", "subject", "identifier", "date"];

    private static bool HasCriterion(IQueryCollection query, string[] criteria) => criteria.Any(query.ContainsKey);

    private static string NoCriterion(string kind, string[] criteria) =>
        $"Recherche {kind} sans critère refusée : indiquez au moins un des paramètres {string.Join(", ", criteria)}.";

    public sealed record PageRequest(int Count, int Offset);

    private const string PagingError = "Paramètres de pagination invalides : _count entre 1 et 100, _offset positif ou nul.";

    private static PageRequest? Paging(IQueryCollection query)
    {
        var count = DefaultCount;
        var offset = 0;
        if (query.ContainsKey("_count"))
        {
            if (!int.TryParse(query["_count"].ToString(), NumberStyles.None, CultureInfo.InvariantCulture, out count) || count < 1) return null;
            count = Math.Min(count, MaxCount);
        }
        if (query.ContainsKey("_offset")
            && (!int.TryParse(query["_offset"].ToString(), NumberStyles.None, CultureInfo.InvariantCulture, out offset) || offset > 1_000_000))
            return null;
        return new PageRequest(count, offset);
    }

    private static Bundle Searchset(HttpRequest request, PageRequest paging, int total, IEnumerable<(Resource Resource, string FullUrl)> entries)
    {
        var bundle = new Bundle
        {
            Type = Bundle.BundleType.Searchset,
            Total = total,
            Link = [new Bundle.LinkComponent { Relation = "self", Url = PageUrl(request, paging.Count, paging.Offset) }],
            Entry = entries.Select(e => new Bundle.EntryComponent
            {
                FullUrl = e.FullUrl,
                Resource = e.Resource,
                Search = new Bundle.SearchComponent { Mode = Bundle.SearchEntryMode.Match },
            }).ToList(),
        };
        if (paging.Offset + paging.Count < total)
            bundle.Link.Add(new Bundle.LinkComponent { Relation = "next", Url = PageUrl(request, paging.Count, paging.Offset + paging.Count) });
        return bundle;
    }

    /// <summary>The same search with this page's _count and _offset (the other parameters kept as sent).</summary>
    private static string PageUrl(HttpRequest request, int count, int offset)
    {
        var kept = request.Query.Where(q => q.Key is not ("_count" or "_offset"))
            .SelectMany(q => q.Value.Select(v => $"{Uri.EscapeDataString(q.Key)}={Uri.EscapeDataString(v ?? "")}"));
        var query = string.Join("&", kept.Append($"_count={count}").Append($"_offset={offset}"));
        return $"{Origin(request)}{request.Path}?{query}";
    }

    /// <summary>A FHIR token "system|code" or "code".</summary>
    public static (string? System, string Code) Token(string? value)
    {
        var text = value ?? "";
        var bar = text.IndexOf('|');
        return bar < 0 ? (null, text) : (bar == 0 ? null : text[..bar], text[(bar + 1)..]);
    }

    public static int? ParseId(string? text) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var id) && id > 0 ? id : null;

    public static string Truncate(string? s) => string.IsNullOrEmpty(s) ? "" : s.Length <= 40 ? s : s[..40];
}
