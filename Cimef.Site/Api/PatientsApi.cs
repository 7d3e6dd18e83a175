using Cimef.Site.Data;
using Cimef.Site.FrontDesk;
using Cimef.Site.Web;
using Microsoft.EntityFrameworkCore;

namespace Cimef.Site.Api;

/// <summary>POST /api/patients/ and GET /api/patients/?q= (front desk: Secretary, Admin).</summary>
public static class PatientsApi
{
    public sealed record CreateBody(string? FullName, string? Phone, string? Email, string? DateOfBirth);

    public sealed record PatientJson(int Id, string FullName, string Phone, string? Email, string? DateOfBirth);

    public static void MapPatientsApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/patients").RequireAuthorization(Policies.FrontDesk);
        group.MapPost("/", CreateAsync);
        group.MapGet("/", SearchAsync);
    }

    private static async Task<IResult> CreateAsync(HttpRequest request, PatientRegistration registration, ClinicClock clock, CancellationToken ct)
    {
        var (body, error) = await ApiJson.ReadAsync<CreateBody>(request);
        if (error is not null) return error;
        var (dob, dobError) = string.IsNullOrWhiteSpace(body!.DateOfBirth)
            ? (null, null)
            : UserDates.ParseDay(body.DateOfBirth, "Date de naissance invalide (format AAAA-MM-JJ).");
        var (clean, errors) = PatientRules.Clean(body.FullName, body.Phone, body.Email, dob, clock.Today);
        if (dobError is not null) errors["date_of_birth"] = [dobError];
        if (errors.Count > 0) return ApiJson.Errors(errors);

        var (patient, duplicates) = await registration.RegisterAsync(clean!, request.HttpContext.User, ct);
        return Results.Json(new
        {
            id = patient.Id,
            full_name = patient.FullName,
            phone = patient.Phone,
            email = patient.Email,
            date_of_birth = patient.DateOfBirth?.ToString("yyyy-MM-dd"),
            warnings = duplicates.Select(d => $"Patient existant avec {d.Reason} : {d.FullName} (n° {d.Id}).").ToList(),
        }, statusCode: StatusCodes.Status201Created);
    }

    private static async Task<IResult> SearchAsync(string? q, int? page, CimefDb db, HttpRequest request, CancellationToken ct)
    {
        var result = await PatientSearch.RunAsync(db.Database.GetDbConnection(), q, page ?? 1, ct);
        var next = result.HasNext
            ? $"{request.PathBase}/api/patients/?q={Uri.EscapeDataString(q ?? "")}&page={result.PageNumber + 1}"
            : null;
        return Results.Json(new
        {
            results = result.Rows.Select(r => new PatientJson((int)r.Id, r.FullName, r.Phone, r.Email, r.DateOfBirth?.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture))),
            next,
        });
    }
}
