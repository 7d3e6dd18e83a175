using Cimef.Site.Access;
using Cimef.Site.Data;
using Cimef.Site.Data.Entities;
using Cimef.Site.Invoicing;
using Cimef.Site.Pdf;
using Cimef.Site.Web;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Cimef.Site.Api;

/// <summary>Invoices for integrations: create, send, pay (Accountant/Admin), PDF.</summary>
public static class InvoicesApi
{
    public sealed record LineBody(string? ExamCode, int? Quantity);
    public sealed record CreateBody(int? PatientId, List<LineBody>? Lines);
    public sealed record PaymentBody(int? Amount, string? Method);

    public static void MapInvoicesApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/invoices");
        group.MapPost("/", CreateAsync).RequireAuthorization(Policies.Billing);
        group.MapPost("/{id:int}/send/", SendAsync).RequireAuthorization(Policies.Billing);
        group.MapPost("/{id:int}/payments/", PayAsync).RequireAuthorization(Policies.Payments);
        group.MapGet("/{id:int}/", DetailAsync).RequireAuthorization(Policies.Billing);
        group.MapGet("/{id:int}/pdf/", PdfAsync).RequireAuthorization(Policies.Billing);
    }

    private static async Task<IResult> CreateAsync(HttpRequest request, InvoiceWorkflow workflow, CancellationToken ct)
    {
        var (body, error) = await ApiJson.ReadAsync<CreateBody>(request);
        if (error is not null) return error;
        var errors = new Dictionary<string, string[]>();
        if (body!.PatientId is null) errors["patient_id"] = ["Le patient est obligatoire."];
        if (body.Lines is null || body.Lines.Count == 0) errors["lines"] = ["Ajoutez au moins une ligne d'examen."];
        else if (body.Lines.Any(l => l is null || l.Quantity is null or < 1))
            errors["lines"] = ["Chaque ligne doit avoir un code d'examen et une quantité d'au moins 1."];
        if (errors.Count > 0) return ApiJson.Errors(errors);

        var result = await workflow.CreateAsync(body.PatientId!.Value,
            body.Lines!.Select(l => new InvoiceWorkflow.LineRequest(l.ExamCode, l.Quantity!.Value)).ToList(), request.HttpContext.User, ct);
        if (result.Outcome == Outcome.Invalid) return ApiJson.Errors(new() { ["lines"] = [result.Error!] });
        if (!result.Ok) return ApiJson.Error(result.Error!, result.StatusCode);
        return Results.Json(Summary(result.Invoice!), statusCode: StatusCodes.Status201Created);
    }

    private static async Task<IResult> SendAsync(int id, HttpContext http, InvoiceWorkflow workflow, CancellationToken ct)
    {
        var result = await workflow.SendAsync(id, http.User, ct);
        return result.Ok ? Results.Json(Summary(result.Invoice!)) : ApiJson.Error(result.Error!, result.StatusCode);
    }

    private static async Task<IResult> PayAsync(int id, HttpRequest request, InvoiceWorkflow workflow, CancellationToken ct)
    {
        var (body, error) = await ApiJson.ReadAsync<PaymentBody>(request);
        if (error is not null) return error;
        var errors = new Dictionary<string, string[]>();
        if (body!.Amount is null or <= 0) errors["amount"] = ["Le montant doit être un nombre entier de FCFA supérieur à zéro."];
        PaymentMethod method = default;
        if (!TryMethod(body.Method, out method))
            errors["method"] = [$"Mode de paiement inconnu. Valeurs possibles : {string.Join(", ", MethodNames)}."];
        if (errors.Count > 0) return ApiJson.Errors(errors);

        var result = await workflow.PayAsync(id, body.Amount!.Value, method, request.HttpContext.User, ct);
        if (result.Outcome == Outcome.Invalid) return ApiJson.Errors(new() { ["amount"] = [result.Error!] });
        if (!result.Ok) return ApiJson.Error(result.Error!, result.StatusCode);
        var inv = result.Invoice!;
        return Results.Json(new
        {
            payment_id = result.Payment!.Id,
            invoice = new { id = inv.Id, status = StatusName(inv.Status), total = inv.Total, paid = InvoiceWorkflow.Paid(inv), patient_access_id = inv.PatientAccessId },
        }, statusCode: StatusCodes.Status201Created);
    }

    private static async Task<IResult> DetailAsync(int id, CimefDb db, CancellationToken ct)
    {
        var inv = await db.Invoices.AsNoTracking().Include(i => i.Payments).SingleOrDefaultAsync(i => i.Id == id, ct);
        if (inv is null) return ApiJson.NotFound(InvoiceWorkflow.NotFoundMessage);
        var paid = InvoiceWorkflow.Paid(inv);
        return Results.Json(new
        {
            id = inv.Id,
            invoice_number = inv.Number,
            status = StatusName(inv.Status),
            total = inv.Total,
            paid,
            balance = inv.Status == InvoiceStatus.Cancelled ? 0 : Math.Max(0, inv.Total - paid),
            patient_access_id = inv.PatientAccessId,
            // Payments that count (a reversed one no longer does), oldest first.
            payments = inv.Payments.Where(p => p.ReversedAt == null).OrderBy(p => p.At).ThenBy(p => p.Id)
                .Select(p => new { id = p.Id, amount = p.Amount, method = MethodName(p.Method), reference = p.Reference, at = p.At }),
        });
    }

    private static async Task<IResult> PdfAsync(int id, HttpContext http, CimefDb db, CredentialHandover handover, IOptions<ClinicOptions> clinic,
        IOptions<PortalOptions> portal, TimeProvider time, CancellationToken ct)
    {
        var model = await InvoicePdf.LoadAsync(db, handover, http.User, CredentialHandover.ApiChannel, clinic.Value, portal.Value, id, ct, time);
        if (model is null) return ApiJson.NotFound(InvoiceWorkflow.NotFoundMessage);
        http.Response.Headers.CacheControl = "no-store";
        return Results.File(InvoicePdf.Render(model), "application/pdf", $"{model.Invoice.Number}.pdf");
    }

    public static string StatusName(InvoiceStatus s) => s.ToString().ToLowerInvariant();

    private static object Summary(Invoice i) => new
    {
        id = i.Id,
        invoice_number = i.Number,
        status = StatusName(i.Status),
        total = i.Total,
        patient_access_id = i.PatientAccessId,
    };

    private static readonly string[] MethodNames = ["cash", "wave", "orange_money", "card", "cheque", "transfer"];

    public static string MethodName(PaymentMethod m) => MethodNames[(int)m];

    private static bool TryMethod(string? value, out PaymentMethod method)
    {
        var v = (value ?? "").Trim().Replace("_", "").Replace("-", "").Replace(" ", "");
        return Enum.TryParse(v, ignoreCase: true, out method) && Enum.IsDefined(method) && !int.TryParse(v, out _);
    }
}
