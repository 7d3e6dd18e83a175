using System.Data;
using System.Globalization;
using System.Reflection;
using Dapper;

namespace Cimef.Site.Data;

/// <summary>
/// How Dapper reads our rows. Dates of birth are DateOnly on both engines (text on SQLite, date on PostgreSQL). Stored times are UTC text ('yyyy-MM-dd HH:mm:ss…', see <see cref="SqlDialect"/>): a DateTime
/// column or computed value (MAX(At)…) is read as a DateTime of kind Utc by one handler, not parsed again by each query.
/// Dapper maps a row to a positional record only when the constructor's parameter types equal the reader's
/// column types. SQLite has no type for a computed column (COUNT, COALESCE…) when the result has no row:
/// Microsoft.Data.Sqlite then reports byte[], and an empty result — a search or a status filter that finds
/// nothing — failed with "A parameterless default constructor … is required" (a 500). Falling back to the
/// constructor whose parameter names match the columns is safe: with no row nothing is converted, and a result
/// with rows gets its own deserializer (Dapper keys it by the column types).
/// </summary>
public static class DapperRecords
{
    public static void Register()
    {
        SqlMapper.TypeMapProvider = type => new NameMatchingTypeMap(type);
        SqlMapper.AddTypeHandler(new UtcDateTimeHandler());
        SqlMapper.AddTypeHandler(new DateOnlyHandler());
    }

    /// <summary>A calendar date: 'yyyy-MM-dd' text on SQLite, a date column (DateOnly) on PostgreSQL.</summary>
    private sealed class DateOnlyHandler : SqlMapper.TypeHandler<DateOnly>
    {
        public override DateOnly Parse(object value) => value switch
        {
            DateOnly d => d,
            DateTime t => DateOnly.FromDateTime(t),
            string text => DateOnly.Parse(text, CultureInfo.InvariantCulture),
            _ => DateOnly.FromDateTime(Convert.ToDateTime(value, CultureInfo.InvariantCulture)),
        };

        public override void SetValue(IDbDataParameter parameter, DateOnly value)
        {
            parameter.DbType = DbType.Date;
            parameter.Value = value;
        }
    }

    private sealed class UtcDateTimeHandler : SqlMapper.TypeHandler<DateTime>
    {
        public override DateTime Parse(object value) => value is string text
            ? DateTime.Parse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal)
            : DateTime.SpecifyKind(Convert.ToDateTime(value, CultureInfo.InvariantCulture), DateTimeKind.Utc);

        public override void SetValue(IDbDataParameter parameter, DateTime value)
        {
            parameter.DbType = DbType.DateTime;
            parameter.Value = value;
        }
    }

    private sealed class NameMatchingTypeMap(Type type) : SqlMapper.ITypeMap
    {
        private readonly DefaultTypeMap _default = new(type);

        public ConstructorInfo? FindConstructor(string[] names, Type[] types) =>
            _default.FindConstructor(names, types)
            ?? type.GetConstructors(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance)
                .FirstOrDefault(c => c.GetParameters() is { } ps && ps.Length == names.Length
                    && ps.Select(p => p.Name).SequenceEqual(names, StringComparer.OrdinalIgnoreCase));

        public ConstructorInfo? FindExplicitConstructor() => _default.FindExplicitConstructor();

        public SqlMapper.IMemberMap? GetConstructorParameter(ConstructorInfo constructor, string columnName) =>
            _default.GetConstructorParameter(constructor, columnName);

        public SqlMapper.IMemberMap? GetMember(string columnName) => _default.GetMember(columnName);
    }
}
